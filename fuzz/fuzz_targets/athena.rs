//! Athena projects (gzip, Perl dump, JSON), then every group turned into
//! μ(E) or χ(k).
#![no_main]

use carto::io::athena;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(project) = athena::read(data, "fuzz.prj") else {
        return;
    };
    for g in &project.groups {
        let _ = g.to_spectrum("fuzz.prj");
        let _ = g.to_chi("fuzz.prj");
        let _ = g.larch_name(true);
    }
    let _ = project.larch_groups();
});
