//! The Map view's side panel: the clusters (names, members, centroids)
//! and the focused point's nearest candidates with its profile.

use super::*;

impl MapView {
    /// The clusters: name (editable), members (click: select them), and
    /// their centroid profiles on the focused measurement's grid (else the
    /// commonest one).
    pub(super) fn clusters_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>, doc: &MapDoc) {
        let labels = ctx.store.map_clusters.labels.clone();
        let n_measured = doc.run.measured.len();
        let measured_labels = labels.get(..n_measured).unwrap_or(&[]);
        egui::Grid::new("map_clusters")
            .striped(true)
            .show(ui, |ui| {
                let k = ctx.store.map_clusters.k;
                for c in 0..k {
                    let members: Vec<u64> = (measured_labels.iter().zip(&doc.ids))
                        .filter(|(l, _)| **l == Some(c))
                        .filter_map(|(_, id)| *id)
                        .collect();
                    if members.is_empty() {
                        continue;
                    }
                    ui.label(egui::RichText::new("●").color(crate::gui::widgets::palette(c)));
                    if let Some(name) = ctx.store.map_clusters.names.get_mut(c) {
                        ui.add(
                            egui::TextEdit::singleline(name)
                                .hint_text(format!("cluster {}", c + 1))
                                .desired_width(140.0),
                        )
                        .on_hover_text("Name the cluster (the feature table's map_cluster_name)");
                    }
                    if ui
                        .small_button(format!("{} ▸ select", members.len()))
                        .on_hover_text("Select the cluster's measurements")
                        .clicked()
                    {
                        ctx.selection.select_only(&members);
                    }
                    ui.end_row();
                }
            });
        let centroids = crate::latent::map::cluster_centroids(&doc.run.measured, measured_labels);
        // The grid to show: the focused measurement's, else the commonest.
        let focus_key = self
            .focus
            .and_then(|i| doc.run.measured.get(i))
            .map(|m| m.key);
        let key = focus_key.or_else(|| {
            let mut count: Vec<(crate::latent::ViewKey, usize)> = Vec::new();
            for c in &centroids {
                match count.iter_mut().find(|x| x.0 == c.key) {
                    Some(x) => x.1 += c.members,
                    None => count.push((c.key, c.members)),
                }
            }
            count.into_iter().max_by_key(|x| x.1).map(|x| x.0)
        });
        let Some(key) = key else { return };
        let shown: Vec<_> = centroids.iter().filter(|c| c.key == key).collect();
        if shown.is_empty() {
            return;
        }
        let g = shown[0].profile.grid;
        let names = &ctx.store.map_clusters.names;
        ui.label(format!("cluster centroids ({})", key.modality().name()));
        Plot::new("map_centroids")
            .height(170.0)
            .legend(Legend::default())
            .x_axis_label(format!("{} ({})", g.axis, g.unit))
            .show(ui, |pu| {
                for c in shown {
                    let pts: Vec<[f64; 2]> = (0..c.profile.grid.n)
                        .filter(|&j| c.profile.mask[j])
                        .map(|j| [c.profile.grid.x(j), c.profile.values[j]])
                        .collect();
                    let name = names
                        .get(c.cluster)
                        .filter(|n| !n.trim().is_empty())
                        .cloned()
                        .unwrap_or_else(|| format!("cluster {}", c.cluster + 1));
                    pu.line(
                        Line::new(format!("{name} ({})", c.members), PlotPoints::new(pts))
                            .color(crate::gui::widgets::palette(c.cluster)),
                    );
                }
            });
    }

    pub(super) fn side_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>, doc: &MapDoc) {
        let m = &doc.run.map;
        // The focus follows the active item when it is on the map.
        if let Some(a) = ctx.selection.active
            && self
                .focus
                .is_none_or(|f| doc.ids.get(f).copied().flatten() != Some(a))
            && let Some(i) = doc.ids.iter().position(|id| *id == Some(a))
        {
            self.focus = Some(i);
        }
        ui.horizontal(|ui| {
            if ui
                .button("Select the other measurements")
                .on_hover_text("The complement of the selection among the map's measurements")
                .clicked()
            {
                let all: Vec<u64> = (m.points.iter().zip(&doc.ids))
                    .filter(|(p, _)| p.kind == PointKind::Measured)
                    .filter_map(|(_, id)| *id)
                    .filter(|id| !ctx.selection.selected.contains(id))
                    .collect();
                ctx.selection.select_only(&all);
            }
        });
        if ctx.store.map_clusters.k > 0 {
            ui.separator();
            self.clusters_ui(ui, ctx, doc);
        }
        ui.separator();
        let Some(i) = self.focus.filter(|&i| i < m.points.len()) else {
            ui.label("Click a point.");
            return;
        };
        let p = &m.points[i];
        ui.strong(&p.id);
        ui.label(match p.absorber {
            Some(a) => format!("{} ({a})", p.modality),
            None => p.modality.clone(),
        });
        let mut refocus = None;
        let mut overlay: Option<(usize, crate::latent::ViewKey)> = None;
        egui::ScrollArea::vertical()
            .max_height(220.0)
            .show(ui, |ui| {
                egui::Grid::new("map_near").striped(true).show(ui, |ui| {
                    if p.kind == PointKind::Measured {
                        let key = doc.run.measured.get(i).map(|m| m.key);
                        let exafs = matches!(key, Some(crate::latent::ViewKey::Exafs { .. }));
                        ui.strong("nearest candidate");
                        ui.strong("cosine");
                        ui.end_row();
                        for n in &p.nearest {
                            if ui.link(&n.cif).clicked() {
                                refocus = Some(doc.run.measured.len() + n.candidate);
                            }
                            ui.label(format!("{:.3}", n.score));
                            if exafs
                                && let Some(key) = key
                                && ui
                                    .small_button("χ(k)")
                                    .on_hover_text(
                                        "Overlay its closed-form χ(k) on this spectrum in the Spectra view",
                                    )
                                    .clicked()
                            {
                                overlay = Some((n.candidate, key));
                            }
                            ui.end_row();
                        }
                    } else {
                        ui.strong("explains");
                        ui.strong("cosine");
                        ui.end_row();
                        for e in &p.explains {
                            if ui.link(&e.id).clicked() {
                                refocus = Some(e.measured);
                            }
                            ui.label(format!("{:.3}", e.score));
                            ui.end_row();
                        }
                    }
                });
            });
        if refocus.is_some() {
            self.focus = refocus;
        }
        if let Some((c, key)) = overlay
            && let Some(cand) = doc.run.candidates.items.get(c)
        {
            match key {
                crate::latent::ViewKey::Exafs { z, edge } => {
                    // Computed as a task (a missing pair table is a refeff
                    // run); the app shows it on the Spectra view's χ(k) tab.
                    if let Some(Some(id)) = doc.ids.get(i) {
                        ctx.selection.select_only(&[*id]);
                    }
                    ctx.actions.push(Action::OverlayCandidate(
                        cand.file.clone(),
                        cand.id.clone(),
                        z,
                        edge.into(),
                    ));
                }
                _ => ctx.log.error(format!(
                    "{}: only EXAFS views have a χ(k) to overlay",
                    cand.id
                )),
            }
        }
        if ctx.store.theory_overlay.is_some() && ui.button("Clear the χ(k) overlay").clicked() {
            ctx.store.theory_overlay = None;
        }
        // The measured profile over its nearest candidate's, on the grid.
        let (measured, cand): (Option<&MeasuredView>, Option<(String, &Profile)>) = match p.kind {
            PointKind::Measured => {
                let mv = doc.run.measured.get(i);
                let c = p.nearest.first().and_then(|n| {
                    let c = doc.run.candidates.items.get(n.candidate)?;
                    Some((c.id.clone(), c.view(mv?.key)?))
                });
                (mv, c)
            }
            PointKind::Candidate => {
                let c = &doc.run.candidates.items[i - doc.run.measured.len()];
                let mv = p
                    .explains
                    .first()
                    .and_then(|e| doc.run.measured.get(e.measured));
                let view = mv
                    .and_then(|mv| c.view(mv.key))
                    .or_else(|| c.views.first().map(|v| &v.1));
                (mv, view.map(|v| (c.id.clone(), v)))
            }
        };
        let line = |name: String, pr: &Profile, color: Color32| {
            let pts: Vec<[f64; 2]> = (0..pr.grid.n)
                .filter(|&j| pr.mask[j])
                .map(|j| [pr.grid.x(j), pr.values[j]])
                .collect();
            Line::new(name, PlotPoints::new(pts)).color(color)
        };
        let axis = measured
            .map(|m| m.profile.grid)
            .or(cand.as_ref().map(|c| c.1.grid))
            .map(|g| format!("{} ({})", g.axis, g.unit))
            .unwrap_or_default();
        Plot::new("map_thumb")
            .height(200.0)
            .legend(Legend::default())
            .x_axis_label(axis)
            .show(ui, |pu| {
                if let Some(mv) = measured {
                    pu.line(line(
                        mv.id.clone(),
                        &mv.profile,
                        color_of(mv.key.modality().name()),
                    ));
                }
                if let Some((id, pr)) = &cand {
                    pu.line(line(id.clone(), pr, rgb(crate::svg::CANDIDATE_RGB)));
                }
            });
    }
}
