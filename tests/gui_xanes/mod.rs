//! The XANES view driven as a person would: rows dragged from the workspace
//! tree onto the standards list and the PCA lists (μ(E) taken, anything
//! else refused in the log), and the pre-edge peak starts as markers on the
//! plot (drag, double-click, right-click), each change refitted in the
//! background.

use std::time::{Duration, Instant};

use carto::gui::CartoApp;
use carto::gui::log::Level;
use carto::gui::views::xanes::XanesView;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

use super::{common, double_click, harness, settle, step_until};

const DROP_HINT: &str = "Drop μ(E) spectra here from the workspace";

fn view(app: &CartoApp) -> &XanesView {
    carto::gui::views::find::<XanesView>(&app.views).expect("the XANES view is registered")
}

/// The tree row of `name` (a selectable button; the view's lists show the
/// same name as a check box or a label).
fn tree_row(h: &Harness<'_, CartoApp>, name: &str) -> egui::Rect {
    h.get_all_by_label(name)
        .find(|n| n.accesskit_node().role() == Role::Button)
        .unwrap_or_else(|| panic!("no tree row {name}"))
        .rect()
}

/// The `nth` drop zone's hint on show (its centre is inside the zone).
fn drop_zone(h: &Harness<'_, CartoApp>, nth: usize) -> egui::Pos2 {
    h.get_all_by_label(DROP_HINT)
        .nth(nth)
        .unwrap_or_else(|| panic!("no drop zone {nth}"))
        .rect()
        .center()
}

/// Press at `from`, move there in steps as a hand would, let go at `to`.
fn drag(h: &mut Harness<'_, CartoApp>, from: egui::Pos2, to: egui::Pos2) {
    h.hover_at(from);
    h.drag_at(from);
    h.step();
    for i in 1..=8 {
        h.hover_at(from + (to - from) * (i as f32 / 8.0));
        h.step();
    }
    h.drop_at(to);
    h.step();
    h.step();
}

/// Drag the tree row `name` onto the `nth` drop zone.
fn drag_row(h: &mut Harness<'_, CartoApp>, name: &str, nth: usize) {
    let (from, to) = (tree_row(h, name).center(), drop_zone(h, nth));
    drag(h, from, to);
}

fn logged(app: &CartoApp, level: Level, parts: &[&str]) -> bool {
    (app.log.lines.iter()).any(|l| l.level == level && parts.iter().all(|p| l.text.contains(p)))
}

fn item_by_group(app: &CartoApp, group: &str) -> (u64, String) {
    let it = (app.store.items.iter())
        .find(|i| i.group.as_deref() == Some(group))
        .unwrap_or_else(|| panic!("no group {group}"));
    (it.id, it.name.clone())
}

#[test]
fn tree_rows_dragged_onto_the_standards_and_pca_lists_join_them_and_chi_is_refused() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/feo_rt1.xdi"),
        common::data("xas/columns/fe2o3_rt1.xmu"),
        common::data("xas/xdi/cu_metal_rt.xdi"),
        common::data("xas/chi/cu.chi"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    h.state_mut().state.view = carto::gui::views::XANES;
    h.step();
    h.step();
    assert!(view(h.state()).lcf.standards().is_empty());
    let id_of = |h: &Harness<'_, CartoApp>, name: &str| {
        let id = h.state().store.find(name);
        (
            id.unwrap_or_else(|| panic!("{name} not loaded")),
            name.to_string(),
        )
    };
    let (feo, feo_name) = id_of(&h, "feo_rt1.xdi");
    let (fe2o3, fe2o3_name) = id_of(&h, "fe2o3_rt1.xmu");

    // One unselected μ(E) row onto the standards list.
    h.state_mut().state.selection.select_only(&[]);
    h.step();
    let selection = h.state().selection.selected.clone();
    drag_row(&mut h, &feo_name, 0);
    let stds = view(h.state()).lcf.standards().clone();
    assert_eq!(
        stds.into_iter().collect::<Vec<_>>(),
        vec![feo],
        "{:?}",
        h.state().log.lines
    );
    assert!(logged(
        h.state(),
        Level::Info,
        &[&feo_name, "added to the standards"]
    ));
    assert_eq!(
        h.state().selection.selected,
        selection,
        "a drag selects nothing"
    );

    // A χ(k) file is refused, named in the log, and nothing changes.
    drag_row(&mut h, "cu.chi", 0);
    assert_eq!(view(h.state()).lcf.standards().len(), 1);
    assert!(
        logged(
            h.state(),
            Level::Warn,
            &["cu.chi is not a μ(E) spectrum", "standards"]
        ),
        "{:?}",
        h.state().log.lines
    );

    // Clicks still select: FeO, then Ctrl-click Fe2O3. A selected row
    // carries the whole selection.
    h.get_all_by_label(&feo_name)
        .find(|n| n.accesskit_node().role() == Role::Button)
        .expect("row")
        .click();
    h.step();
    h.get_all_by_label(&fe2o3_name)
        .find(|n| n.accesskit_node().role() == Role::Button)
        .expect("row")
        .click_modifiers(egui::Modifiers::COMMAND);
    h.step();
    h.step();
    assert_eq!(h.state().selection.selected.len(), 2);
    h.get_by_label("PCA").click();
    h.step();
    h.step();
    drag_row(&mut h, &fe2o3_name, 0);
    let v = view(h.state());
    let mut train = v.pca.train().to_vec();
    train.sort_unstable();
    let mut want = vec![feo, fe2o3];
    want.sort_unstable();
    assert_eq!(train, want, "the selection joined the training set");
    assert!(v.pca.targets().is_empty());
    // The χ(k) row onto the targets.
    drag_row(&mut h, "cu.chi", 1);
    assert!(view(h.state()).pca.targets().is_empty());
    assert!(logged(
        h.state(),
        Level::Warn,
        &["cu.chi is not a μ(E) spectrum", "targets"]
    ));
    assert_eq!(h.state().selection.selected.len(), 2);
    // The selection onto the targets too, then train: the model is of the
    // dropped training set, with a transform per target.
    drag_row(&mut h, &feo_name, 1);
    assert_eq!(view(h.state()).pca.targets().len(), 2);
    h.get_by_label("Train (2 spectra)").click();
    h.step();
    h.step();
    let pca = h.state().store.xanes.pca.as_ref();
    let pca = pca.unwrap_or_else(|| panic!("no PCA: {:?}", h.state().log.lines));
    let mut trained = pca.train.clone();
    trained.sort_unstable();
    assert_eq!(trained, want);
    assert_eq!(pca.targets.len(), 2);
}

/// The active spectrum's pre-edge result: the fitted peak centres (None:
/// no peak fit, only the baseline).
fn peak_centres(app: &CartoApp, id: u64) -> Option<Vec<f64>> {
    let p = app.store.xanes.peaks.get(&id)?;
    p.fit
        .as_ref()
        .map(|f| f.peaks.iter().map(|pk| pk.center_ev.value).collect())
}

/// Step until the peak fit running now has answered (bounded).
fn refitted(h: &mut Harness<'_, CartoApp>) {
    let start = Instant::now();
    while view(h.state()).peaks.fitting() {
        h.step();
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the peak fit did not finish"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    h.step();
}

/// The screen point of energy `e` halfway up the peak plot.
fn plot_at(h: &Harness<'_, CartoApp>, e: f64) -> egui::Pos2 {
    let t = view(h.state()).peaks.transform().expect("the peak plot");
    egui::pos2(t.position_from_point_x(e), t.frame().center().y)
}

/// Plot units per screen point along x.
fn ev_per_point(h: &Harness<'_, CartoApp>) -> f64 {
    let t = view(h.state()).peaks.transform().expect("the peak plot");
    t.bounds().width() / f64::from(t.frame().width())
}

#[test]
fn pre_edge_peak_starts_are_markers_added_dragged_and_removed_on_the_plot() {
    let mut app = CartoApp::new();
    app.open_paths(&[common::data("athena/Fe.prj")]);
    let mut h = harness(app);
    settle(&mut h);
    let (id, _) = item_by_group(h.state(), "Hematite");
    h.state_mut().state.selection.select_only(&[id]);
    h.state_mut().state.view = carto::gui::views::XANES;
    h.step();
    h.get_by_label("Pre-edge peaks").click();
    h.step();
    h.get_by_label("Fit pre-edge peaks").click();
    h.step();
    step_until(&mut h, "the baseline", |a| {
        a.store.xanes.peaks.contains_key(&id)
    });
    h.step();
    assert_eq!(
        peak_centres(h.state(), id),
        None,
        "no starts: baseline only"
    );
    assert!(view(h.state()).peaks.starts().is_empty());

    // Double-click adds a start where it is, and the fit runs.
    let px = ev_per_point(&h);
    let at = plot_at(&h, 7118.5);
    double_click(&mut h, at);
    h.step();
    let starts = view(h.state()).peaks.starts().to_vec();
    assert_eq!(starts.len(), 1);
    assert!((starts[0] - 7118.5).abs() < 1.5 * px, "{starts:?}");
    refitted(&mut h);
    let before = peak_centres(h.state(), id).expect("a peak fit");
    assert_eq!(before.len(), 1);
    // (A centre stays within 2 eV of its start: not near 7114.5 eV.)
    assert!(before[0] > 7116.4, "{before:?}");

    // Drag the marker (grabbed 3 points beside it) to 7114.5 eV: the start
    // follows the pointer, the plot does not pan, and the fit runs again
    // from there when it is let go.
    let bounds = *view(h.state()).peaks.transform().expect("plot").bounds();
    let from = plot_at(&h, starts[0]) + egui::vec2(3.0, 0.0);
    let to = plot_at(&h, 7114.5);
    h.hover_at(from);
    h.drag_at(from);
    h.step();
    assert_eq!(view(h.state()).peaks.dragging(), Some(0), "marker grabbed");
    for i in 1..=6 {
        h.hover_at(from + (to - from) * (i as f32 / 6.0));
        h.step();
    }
    assert!(!view(h.state()).peaks.fitting(), "no fit while dragging");
    h.drop_at(to);
    h.step();
    assert_eq!(view(h.state()).peaks.dragging(), None);
    let moved = view(h.state()).peaks.starts()[0];
    assert!((moved - 7114.5).abs() < 1.5 * px, "start at {moved}");
    let after_bounds = *view(h.state()).peaks.transform().expect("plot").bounds();
    assert_eq!(
        after_bounds.range_x(),
        bounds.range_x(),
        "the plot did not pan"
    );
    refitted(&mut h);
    let after = peak_centres(h.state(), id).expect("a peak fit");
    assert_eq!(after.len(), 1);
    assert!(
        (after[0] - 7114.5).abs() < 1.0,
        "fitted centre {} not near the drag target (before {})",
        after[0],
        before[0]
    );

    // A second start by double-click, then a right-click on it removes it.
    let at = plot_at(&h, 7111.5);
    double_click(&mut h, at);
    h.step();
    assert_eq!(view(h.state()).peaks.starts().len(), 2);
    refitted(&mut h);
    assert_eq!(peak_centres(h.state(), id).map(|c| c.len()), Some(2));
    let at = plot_at(&h, view(h.state()).peaks.starts()[1]);
    h.hover_at(at);
    h.step();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Secondary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    h.step();
    h.step();
    let starts = view(h.state()).peaks.starts().to_vec();
    assert_eq!(starts, vec![moved], "the right-clicked start is gone");
    refitted(&mut h);
    assert_eq!(peak_centres(h.state(), id).map(|c| c.len()), Some(1));
    assert!(
        !(h.state().log.errors()).any(|l| l.contains("XANES")),
        "{:?}",
        h.state().log.lines
    );
}

/// Every combination of ≤ 4 of 39 standards is 92 131 fits: the task
/// counts fits (not spectra) and Cancel stops it between two fits, with
/// nothing kept.
#[test]
fn a_long_lcf_run_shows_progress_in_fits_and_cancel_stops_it() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("athena/CuHERFD_standards.prj"),
        common::data("athena/CuHERFD_samples.prj"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    h.state_mut().state.view = carto::gui::views::XANES;
    h.step();
    let stds: Vec<String> = (h.state().store.items.iter())
        .filter(|i| i.file.ends_with("CuHERFD_standards.prj"))
        .map(|i| i.name.clone())
        .collect();
    assert_eq!(stds.len(), 39);
    for name in &stds {
        h.get_by_role_and_label(Role::CheckBox, name)
            .click_accesskit();
        h.step();
    }
    assert_eq!(view(h.state()).lcf.standards().len(), 39);
    let sample = (h.state().store.items.iter())
        .find(|i| i.file.ends_with("CuHERFD_samples.prj"))
        .map(|i| i.id)
        .expect("a sample");
    h.state_mut().state.selection.select_only(&[sample]);
    h.step();
    h.get_by_label("at most").set_value_accesskit(4.0);
    h.step();
    h.step();
    h.get_by_label("Fit selection (1 spectra)").click();
    h.step();
    // Some fits done, far from all.
    let start = Instant::now();
    let (done, total) = loop {
        h.step();
        let t = h.state().tasks.running();
        let lcf = t.iter().find(|t| t.title.starts_with("LCF of 1 spectra"));
        let lcf = lcf.unwrap_or_else(|| panic!("no LCF task: {:?}", h.state().log.lines));
        if lcf.done() >= 5 {
            break (lcf.done(), lcf.total());
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(total, 741 + 9139 + 82251, "C(39,2) + C(39,3) + C(39,4)");
    assert!(done < total / 10, "{done} of {total}");
    h.get_by_label("Cancel").click();
    let start = Instant::now();
    settle(&mut h);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "Cancel stopped it"
    );
    assert!(logged(
        h.state(),
        Level::Warn,
        &["XANES linear combination fit cancelled"]
    ));
    assert!(!h.state().store.xanes.lcf.contains_key(&sample));
}

/// The PLS tab as a person uses it: the five Fe series scans selected and
/// added, their targets filled with their order, two components fitted:
/// the predictions are scikit-learn's (the fixture of `carto pls`), and a
/// typed target changes the fit.
#[test]
fn pls_tab_fits_the_series_against_typed_targets_as_scikit_learn() {
    let mut app = CartoApp::new();
    let files = common::data_files("xas/series");
    app.open_paths(&files);
    let mut h = harness(app);
    settle(&mut h);
    let ids: Vec<u64> = (files.iter())
        .map(|f| {
            let name = f.file_name().expect("name").to_string_lossy().into_owned();
            h.state()
                .store
                .find(&name)
                .unwrap_or_else(|| panic!("{name}"))
        })
        .collect();
    {
        let st = &mut h.state_mut().state;
        st.store.select_items_only(&mut st.selection, &ids);
        st.view = carto::gui::views::XANES;
    }
    h.step();
    h.get_by_label("PLS").click();
    h.step();
    h.get_by_label("Add selection").click();
    h.step();
    assert_eq!(view(h.state()).pls.items().len(), 5);
    h.get_by_label("order").click();
    h.step();
    h.get_by_label("Fit PLS (5 spectra)").click();
    h.step();
    h.step();
    let app = h.state();
    let p = app
        .store
        .xanes
        .pls
        .as_ref()
        .unwrap_or_else(|| panic!("no fit: {:?}", app.log.lines));
    // Targets 0..4 in tree order, as the fixture's.
    let fx = common::json_fixture("latent/fe_series_pls_sklearn.json");
    let want = common::numbers(&fx["series"]["predict"]);
    for (s, w) in p.report.samples.iter().zip(&want) {
        assert!(
            (s.predicted - w).abs() < 1e-6,
            "{}: {} vs {w}",
            s.id,
            s.predicted
        );
    }
    assert!(logged(app, Level::Info, &["XANES PLS: 5 spectra", "Q²"]));
    // A target typed differently refits to something else.
    h.state_mut()
        .views
        .iter_mut()
        .find_map(|v| v.as_any_mut().downcast_mut::<XanesView>())
        .expect("the XANES view")
        .pls
        .set_target(ids[2], 10.0);
    h.step();
    h.get_by_label("Fit PLS (5 spectra)").click();
    h.step();
    h.step();
    let p = h.state().store.xanes.pls.as_ref().expect("refit");
    assert_eq!(p.report.samples[2].target, 10.0);
    assert!((p.report.samples[0].predicted - want[0]).abs() > 1e-3);
}
