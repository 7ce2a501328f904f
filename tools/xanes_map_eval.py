"""Top-1/top-3 of measured XANES against the candidates' XANES views on a
`carto map --xanes ... --json` output (README, "XANES landmarks on the
map"): each measurement of a known compound is a hit when one of its
structure's CIFs ranks within k; measurements whose structure is not
among the candidates are left out.

usage: python3 tools/xanes_map_eval.py map.json
"""
import json, sys
truth = {
 # Fe foil is bcc α-Fe; the amcsd iron (a = 3.679 Å, Fm-3m) is fcc γ-Fe
 'iron': [], 'goethite': ['goethite_amcsd16643'], 'hematite': ['hematite_amcsd17731'],
 'lepidocrocite': ['lepidocrocite_amcsd17984'], 'wustite': ['wustite_amcsd18048'], 'pyrite': ['pyrite_amcsd17728'],
 'copper': ['copper_amcsd13088','Copper_amcsd13094','Copper_amcsd14944'],
 'cuprite': ['Cuprite_amcsd17662','cuprite_amcsd17890'],
 'tenorite': ['Tenorite_amcsd18818','tenorite_amcsd18816'],
 'covellite': ['covellite_amcsd10944'],
 'chalcocite': ['Chalcocite_amcsd6938'],
}
def phase_of(id):
    i = id.split('/')[-1]
    if i.endswith(':Fe foil') or 'fe.060' in i: return 'iron'
    if 'Goerthite' in i: return 'goethite'
    if 'Hematite' in i or 'fe2o3' in i: return 'hematite'
    if 'Lepidocrocite' in i: return 'lepidocrocite'
    if 'feo' in i: return 'wustite'
    if 'fes2' in i: return 'pyrite'
    if 'Foil' in i or 'cu_metal' in i or i.startswith('cu.xmu') or 'cu_rt01' in i or 'cu_10k' in i or 'cu_50k' in i: return 'copper'
    if 'Cu(I)O' in i: return 'cuprite'
    if 'nanoCuO' in i: return 'tenorite'
    if 'CuS.' in i: return 'covellite'
    if 'Cu2S' in i or 'cu2s' in i: return 'chalcocite'
    return None
m = json.load(open(sys.argv[1]))
print('candidates', m['candidates'], 'xanes_views', m.get('xanes_views'), 'computed', m.get('xanes_computed'), 'seconds', round(m['seconds'],1))
cands = {p['id'] for p in m['points'] if p['kind']=='candidate'}
n=t1=t3=0
for p in m['points']:
    if p['kind']!='measured': continue
    ph = phase_of(p['id'])
    if ph is None: continue
    if not any(c in cands for c in truth[ph]):
        print(f"{p['id'].split('/')[-1]:45s} {ph:10s} no such candidate: left out"); continue
    ids=[x['cif'] for x in p['nearest']]
    rank = next((i+1 for i,c in enumerate(ids) if c in truth[ph]), None)
    n+=1; t1+= rank==1; t3+= (rank is not None and rank<=3)
    top = ', '.join('%s %.3f' % (x['cif'], x['score']) for x in p['nearest'][:3])
    print(f"{p['id'].split('/')[-1]:45s} {ph:10s} rank {rank}  top: {top}")
print(f'top-1 {t1}/{n}, top-3 {t3}/{n}')
