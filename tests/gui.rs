//! The desktop app driven headless through egui_kittest: real app state,
//! real panels, no window and no GPU (nothing is rendered to pixels).
#![cfg(feature = "gui")]

mod common;
mod gui_xanes;

use std::time::{Duration, Instant};

use carto::gui::{CartoApp, PlotTab, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

fn harness(app: CartoApp) -> Harness<'static, CartoApp> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_context_setup(carto::gui::setup_fonts)
        .build_ui_state(|ui, app: &mut CartoApp| app.ui(ui), app)
}

/// The workspace tree's entry for `name` (the plot legend, drawn later,
/// carries the same label).
fn tree_entry<'a>(h: &'a Harness<'_, CartoApp>, name: &'a str) -> egui_kittest::Node<'a> {
    h.get_all_by_label(name)
        .next()
        .unwrap_or_else(|| panic!("no widget labelled {name}"))
}

/// How many spectra a tab plots (curves of the data itself, not windows
/// or markers).
fn n_plotted(app: &CartoApp, tab: PlotTab) -> usize {
    app.plot_series(tab)
        .iter()
        .filter(|s| s.role == Role::Data)
        .count()
}

/// Step frames until the background job is done (bounded: a hung job fails).
fn settle(h: &mut Harness<'_, CartoApp>) {
    let start = Instant::now();
    loop {
        h.step();
        if !h.state().busy() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "background job did not finish"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    h.step();
}

fn chi_of(app: &CartoApp, name: &str) -> Vec<f64> {
    let id = app.store.find(name).expect("item by name");
    let s = app
        .store
        .item(id)
        .and_then(|i| i.spectrum())
        .expect("a spectrum");
    s.result.as_ref().expect("processed").chi.clone()
}

/// Opening column files logs which μ recipe the automatic rule chose and
/// why (the core's rule, as `carto info` states it), warns on a fallback
/// from a dead transmission chamber, and refuses dark current.
#[test]
fn log_says_which_mu_recipe_was_chosen_and_why() {
    use carto::gui::log::Level;
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/beamlines/APS10BM_2019.dat"),
        common::data("xas/beamlines/APS9BM_2006.dat"),
        common::data("xas/beamlines/APS12BM_2019.dat"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    let log = &h.state().log.lines;
    let has = |level: Level, parts: &[&str]| {
        log.iter()
            .any(|l| l.level == level && parts.iter().all(|p| l.text.contains(p)))
    };
    assert!(
        has(
            Level::Info,
            &["APS10BM_2019.dat: μ(E) transmission", "not 3× higher"]
        ),
        "{log:?}"
    );
    assert!(
        has(
            Level::Info,
            &["APS9BM_2006.dat: μ(E) fluorescence", "unusable", "'i1'"]
        ),
        "{log:?}"
    );
    assert!(
        has(Level::Warn, &["APS9BM_2006.dat", "μ from fluorescence"]),
        "{log:?}"
    );
    assert!(
        has(
            Level::Error,
            &[
                "APS12BM_2019.dat",
                "shows no absorption edge",
                "dark current"
            ]
        ),
        "{log:?}"
    );
    // Reopening a session replays the files: the log says why again.
    let dir = std::env::temp_dir().join(format!("carto-gui-recipe-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("recipes.carto");
    assert!(h.state_mut().save_session(&path));
    let mut h2 = harness(CartoApp::new());
    assert!(h2.state_mut().open_session(&path));
    settle(&mut h2);
    let log = &h2.state().log.lines;
    for parts in [
        &["APS10BM_2019.dat: μ(E) transmission", "not 3× higher"][..],
        &["APS9BM_2006.dat: μ(E) fluorescence", "unusable", "'i1'"][..],
    ] {
        assert!(
            log.iter()
                .any(|l| l.level == Level::Info && parts.iter().all(|p| l.text.contains(p))),
            "{parts:?} {log:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn open_file_and_drag_rbkg_changes_chi() {
    let mut app = CartoApp::new();
    app.open_paths(&[common::data("xas/xdi/cu_metal_rt.xdi")]);
    let mut h = harness(app);
    settle(&mut h);
    assert!(
        h.state().log.errors().next().is_none(),
        "{:?}",
        h.state().log.lines
    );
    let before = chi_of(h.state(), "cu_metal_rt.xdi");
    let rbkg_before = {
        let app = h.state();
        let id = app.selection.active.expect("opened file is active");
        app.store
            .item(id)
            .and_then(|i| i.spectrum())
            .expect("spectrum")
            .params
            .autobk
            .rbkg
    };
    assert_eq!(rbkg_before, 1.0);

    // The rbkg DragValue in the parameter panel, found by its label.
    h.get_by_label("rbkg").set_value_accesskit(1.4);
    h.step();
    h.step();

    let app = h.state();
    let id = app.selection.active.expect("active");
    let s = app
        .store
        .item(id)
        .and_then(|i| i.spectrum())
        .expect("spectrum");
    assert_eq!(s.params.autobk.rbkg, 1.4);
    assert!(
        !s.needs_processing(),
        "edited spectrum recomputed synchronously"
    );
    let after = chi_of(app, "cu_metal_rt.xdi");
    let diff: f64 = before
        .iter()
        .zip(&after)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(diff > 1e-4, "χ(k) did not change (max |Δχ| = {diff})");
    // The χ(k) plot shows the new data.
    let plotted = app.plot_series(PlotTab::ChiK);
    let data: Vec<_> = plotted.iter().filter(|s| s.role == Role::Data).collect();
    assert_eq!(data.len(), 1);
    let k2chi_last = data[0].points.last().expect("points")[1];
    let r = s.result.as_ref().expect("result");
    let k = *r.k_inv_ang.last().expect("k");
    let chi = *r.chi.last().expect("chi");
    assert!((k2chi_last - chi * k * k).abs() < 1e-12);
}

#[test]
fn two_selected_spectra_are_both_plotted() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/feo_rt1.xdi"),
        common::data("xas/columns/fe2o3_rt1.xmu"),
        common::data("xas/xdi/cu_metal_rt.xdi"),
    ]);
    let mut h = harness(app);
    settle(&mut h);

    // Click the first, ctrl-click the second in the workspace tree.
    tree_entry(&h, "feo_rt1.xdi").click();
    h.step();
    tree_entry(&h, "fe2o3_rt1.xmu").click_modifiers(egui::Modifiers::COMMAND);
    h.step();
    h.step();

    let app = h.state();
    assert_eq!(app.selection.selected.len(), 2);
    for tab in PlotTab::ALL {
        let names: Vec<String> = app
            .plot_series(tab)
            .into_iter()
            .filter(|s| s.role == Role::Data)
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["feo_rt1.xdi", "fe2o3_rt1.xmu"], "{tab:?}");
    }
    // μ(E) carries the pre-edge line, post-edge curve and e0 marker of each.
    let mu = app.plot_series(PlotTab::Mu);
    for role in [Role::PreEdgeLine, Role::PostEdgeCurve, Role::E0] {
        assert_eq!(mu.iter().filter(|s| s.role == role).count(), 2, "{role:?}");
    }

    // Shift-click extends the range to the third item.
    tree_entry(&h, "feo_rt1.xdi").click();
    h.step();
    tree_entry(&h, "cu_metal_rt.xdi").click_modifiers(egui::Modifiers::SHIFT);
    h.step();
    assert_eq!(h.state().selection.selected.len(), 3);
}

#[test]
fn apply_to_all_copies_parameters_and_reprocesses() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/feo_rt1.xdi"),
        common::data("xas/columns/fe2o3_rt1.xmu"),
        common::data("athena/Fe.prj"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    let n_spectra = h.state().store.items.len();
    assert!(n_spectra >= 3, "Athena groups are separate spectra");
    let before = chi_of(h.state(), "fe2o3_rt1.xmu");

    // Edit the first spectrum, then apply to all from the panel.
    let first = h.state().store.find("feo_rt1.xdi").expect("feo");
    h.state_mut().selection.select_only(&[first]);
    h.step();
    h.get_by_label("rbkg").set_value_accesskit(1.3);
    h.step();
    h.get_by_label("kweight").set_value_accesskit(3.0);
    h.step();
    h.get_by_label("Apply to all").click();
    settle(&mut h);

    let app = h.state();
    for item in &app.store.items {
        let s = item.spectrum().expect("spectrum");
        assert_eq!(s.params.autobk.rbkg, 1.3, "{}", item.name);
        assert_eq!(s.params.ft.kweight, 3.0, "{}", item.name);
        assert!(!s.needs_processing(), "{} processed", item.name);
        assert!(s.error.is_none(), "{}: {:?}", item.name, s.error);
        // Each keeps its own e0 choice (unset = found from its own data).
        assert_eq!(s.params.pre_edge.e0, None);
    }
    let after = chi_of(app, "fe2o3_rt1.xmu");
    assert_ne!(before, after, "fe2o3 reprocessed with the new rbkg");
    assert!(app.log.lines.iter().any(|l| l.text.contains("to all")));

    // Reset to defaults brings Larch's rbkg back for the active spectrum.
    h.get_by_label("Reset to defaults").click();
    h.step();
    let app = h.state();
    let s = app
        .store
        .item(first)
        .and_then(|i| i.spectrum())
        .expect("spectrum");
    assert_eq!(s.params.autobk.rbkg, 1.0);
}

#[test]
fn bad_file_is_an_error_in_the_log_not_a_panic() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("gui-bad");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let bad = dir.join("garbage.dat");
    std::fs::write(&bad, "this is not a spectrum\n1 2 x\n").expect("write");
    let missing = dir.join("does-not-exist.xdi");

    let mut app = CartoApp::new();
    app.open_paths(&[
        bad.clone(),
        missing,
        common::data("xas/xdi/cu_metal_rt.xdi"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    let app = h.state();
    let errors: Vec<&str> = app.log.errors().collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("garbage.dat"), "{}", errors[0]);
    assert!(errors[1].contains("does-not-exist.xdi"), "{}", errors[1]);
    // The good file still loaded and plots.
    assert_eq!(app.store.items.len(), 1);
    assert_eq!(n_plotted(app, PlotTab::ChiR), 1);
}

#[test]
fn impossible_parameters_show_an_error_and_keep_running() {
    let mut app = CartoApp::new();
    app.open_paths(&[common::data("xas/xdi/cu_metal_rt.xdi")]);
    let mut h = harness(app);
    settle(&mut h);
    // FT kmin beyond the end of the data.
    h.get_by_label("kmin").set_value_accesskit(29.0);
    h.step();
    h.step();
    let app = h.state();
    let id = app.selection.active.expect("active");
    let s = app
        .store
        .item(id)
        .and_then(|i| i.spectrum())
        .expect("spectrum");
    let e = s.error.as_deref().expect("an error");
    assert!(e.contains("kmin"), "{e}");
    assert!(app.log.errors().any(|l| l.contains("kmin")));
    // The last good curves stay on screen.
    assert_eq!(n_plotted(app, PlotTab::ChiR), 1);
}

#[test]
fn demo_session_loads_from_sample_data() {
    let mut h = harness(CartoApp::demo());
    settle(&mut h);
    let app = h.state();
    assert_eq!(app.store.items.len(), 3);
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    assert_eq!(
        app.plot_series(PlotTab::Mu)
            .iter()
            .filter(|s| s.role == Role::Data)
            .count(),
        2
    );
    // The XRD view: the simulated FeO + Fe2O3 pattern with both CIFs as
    // phases; wüstite's 200 line (d = a/2 = 2.166 Å, Cu Kα 41.67°) is the
    // strongest peak and a wüstite stick sits on it.
    assert_eq!(app.store.patterns.len(), 1);
    assert_eq!(app.store.phases.len(), 2);
    let p = xrd_series(app, XrdRole::Pattern);
    let top = strongest(&p[0].points);
    let d200 = 4.332 / 2.0;
    let want = 2.0 * (1.54184_f64 / (2.0 * d200)).asin().to_degrees();
    assert!((top[0] - want).abs() < 0.1, "{top:?} vs {want}");
    let sticks = xrd_series(app, XrdRole::Sticks);
    assert_eq!(sticks.len(), 2, "one stick series per phase");
    assert!(
        sticks
            .iter()
            .any(|s| s.points.iter().any(|q| (q[0] - want).abs() < 0.05)),
        "a stick at the 200 line"
    );
    // The workspace tree lists the pattern and the structures too; a click
    // on the pattern opens the XRD view.
    h.step();
    h.get_by_label("XRD patterns (1)");
    h.get_by_label("wustite_amcsd18048 (FeO)");
    h.get_by_label("feo_fe2o3_cuka_simulated").click();
    h.step();
    let app = h.state();
    assert_eq!(app.view, carto::gui::views::XRD);
    // A session of the demo reopens with the built-in pattern and phases.
    let s = app.to_session();
    let mut again = CartoApp::new();
    again.apply_session(&s);
    assert!(again.log.errors().next().is_none(), "{:?}", again.log.lines);
    assert_eq!(again.to_session(), s);
}

#[test]
fn cancel_stops_a_background_job() {
    let files = common::data_files("xas/xdi");
    let mut app = CartoApp::new();
    app.open_paths(&files);
    // Cancel before the first poll: the job may have done some, not all.
    let ctx = egui::Context::default();
    app.logic(&ctx);
    let job = app.job.as_ref().expect("a job started");
    job.cancel();
    let start = Instant::now();
    while app.busy() {
        app.logic(&ctx);
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(2));
    }
    // Nothing is left marked for processing (no restart loop), and the log
    // says what happened.
    assert!(
        app.store
            .items
            .iter()
            .filter_map(|i| i.spectrum())
            .all(|s| !s.needs_processing())
    );
    assert!(
        app.log
            .lines
            .iter()
            .any(|l| l.text.contains("cancelled") || l.text.contains("done"))
    );

    // Opening in the background can be cancelled too; what was read stays.
    let before = app.store.items.len();
    app.open_in_background(files.clone(), &ctx);
    app.loads[0].cancel();
    let start = Instant::now();
    while app.busy() {
        app.logic(&ctx);
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(app.store.items.len() <= before + files.len());
    // The only error allowed is the XANES-only scan that cannot be Fourier
    // transformed (whether it was processed before the cancel is a race).
    assert!(
        app.log.errors().all(|l| l.starts_with("fe_xanes_8ch.xdi:")),
        "{:?}",
        app.log.lines
    );
}

/// A file dropped on the window, as the windowing integration hands it over.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn dropped_folder_and_files_open_and_remove_works() {
    let mut h = harness(CartoApp::new());
    h.step();
    h.input_mut().dropped_files = vec![
        std::sync::Arc::new(Dropped(common::data("feff/cu"))),
        std::sync::Arc::new(Dropped(common::data("xas/chi/cu.chi"))),
        std::sync::Arc::new(Dropped(common::data("athena/Fe.prj"))),
    ];
    settle(&mut h);
    let app = h.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    let count = |m| app.store.items.iter().filter(|i| i.modality() == m).count();
    use carto::gui::workspace::Modality;
    assert!(count(Modality::Feff) >= 13, "FEFF paths listed");
    assert_eq!(count(Modality::Chi), 1);
    assert!(count(Modality::Xas) >= 1, "Athena groups");
    // The project's groups sit under one header in the tree.
    let n_groups = app
        .store
        .items
        .iter()
        .filter(|i| i.group.is_some() && i.file.ends_with("Fe.prj"))
        .count();
    assert!(n_groups >= 1);
    h.get_by_label(&format!("Fe.prj ({n_groups} groups)"));
    // The χ(k) file is plotted in k and R, not in E.
    let chi = app.store.find("cu.chi").expect("cu.chi");
    h.state_mut().selection.select_only(&[chi]);
    h.step();
    assert_eq!(n_plotted(h.state(), PlotTab::ChiR), 1);
    assert!(h.state().plot_series(PlotTab::Mu).is_empty());

    // Remove the selection with the button.
    let before = h.state().store.items.len();
    h.get_by_label("Remove").click();
    h.step();
    h.step();
    let app = h.state();
    assert_eq!(app.store.items.len(), before - 1);
    assert!(app.store.find("cu.chi").is_none());
    assert!(app.selection.selected.is_empty());
    // The drop was one undo step however many frames its files took, the
    // removal another; undo brings cu.chi back.
    let labels: Vec<&str> = app.history.undo.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels.len(), 2, "{labels:?}");
    assert_eq!(labels[1], "remove cu.chi");
    h.state_mut().undo();
    h.step();
    assert!(h.state().store.find("cu.chi").is_some());
}

/// Frame time while dragging rbkg with 50 spectra selected (issue 4 asks
/// for < 16 ms in release). Not a pass/fail check: timing on a shared
/// 2-core machine is noise. Run with
/// `cargo test --release --test gui frame_time -- --ignored --nocapture`.
#[test]
#[ignore]
fn frame_time_dragging_rbkg_with_50_selected() {
    let files: Vec<_> = common::data_files("xas/xdi")
        .into_iter()
        .chain(common::data_files("xas/columns"))
        .chain(common::data_files("xas/series"))
        .collect();
    let mut app = CartoApp::new();
    while app.store.items.len() < 50 {
        app.open_paths(&files);
    }
    let ids: Vec<u64> = app.store.items.iter().take(50).map(|i| i.id).collect();
    app.selection.select_only(&ids);
    let mut h = harness(app);
    settle(&mut h);
    for tab in [PlotTab::Mu, PlotTab::ChiK, PlotTab::ChiQ] {
        h.state_mut().plots.tab = tab;
        h.step();
        let mut frames = Vec::new();
        for i in 0..20 {
            let start = Instant::now();
            h.get_by_label("rbkg")
                .set_value_accesskit(1.0 + 0.01 * i as f64);
            h.step();
            frames.push(start.elapsed().as_secs_f64() * 1e3);
        }
        frames.sort_by(f64::total_cmp);
        println!(
            "{tab:?}: 50 spectra selected, frame while dragging rbkg: median {:.1} ms, max {:.1} ms",
            frames[frames.len() / 2],
            frames[frames.len() - 1]
        );
    }
}

#[test]
fn apply_from_a_chi_file_copies_only_the_ft_parameters() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/cu_metal_rt.xdi"),
        common::data("xas/chi/cu.chi"),
    ]);
    let mu = app.store.find("cu_metal_rt.xdi").expect("mu");
    let chi = app.store.find("cu.chi").expect("chi");
    let mut h = harness(app);
    settle(&mut h);
    h.state_mut().selection.select_only(&[mu]);
    h.step();
    h.get_by_label("rbkg").set_value_accesskit(1.3);
    h.step();
    h.state_mut().selection.select_only(&[chi]);
    h.step();
    // A χ(k) file has only the Fourier transform's parameters.
    assert!(h.query_by_label("rbkg").is_none());
    h.get_by_label("kweight").set_value_accesskit(3.0);
    h.step();
    h.get_by_label("Apply to all").click();
    settle(&mut h);
    let app = h.state();
    let p = &app
        .store
        .item(mu)
        .and_then(|i| i.spectrum())
        .expect("mu")
        .params;
    assert_eq!(p.ft.kweight, 3.0);
    assert_eq!(p.autobk.rbkg, 1.3, "the μ(E) spectrum keeps its own AUTOBK");
}

#[test]
fn save_and_reload_a_session_through_the_app() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/feo_rt1.xdi"),
        common::data("xas/xdi/cu_metal_rt.xdi"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    // Edit through the panel, then save from the app.
    h.get_by_label("rbkg").set_value_accesskit(1.3);
    h.step();
    let dir = std::env::temp_dir().join(format!("carto-gui-session-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("gui.carto");
    assert!(h.state_mut().save_session(&path));
    let saved = h.state().to_session();
    assert_eq!(
        saved.items[saved.active.expect("active")]
            .params
            .as_ref()
            .map(|p| p.autobk.rbkg),
        Some(1.3)
    );

    let mut h2 = harness(CartoApp::new());
    assert!(h2.state_mut().open_session(&path));
    settle(&mut h2);
    assert_eq!(h2.state().to_session(), saved);
    assert!(h2.state().log.errors().next().is_none());
    // The reloaded spectra were processed with the saved parameters.
    let names: Vec<String> = h2
        .state()
        .plot_series(PlotTab::ChiK)
        .into_iter()
        .filter(|s| s.role == Role::Data)
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["feo_rt1.xdi", "cu_metal_rt.xdi"]);
    assert_eq!(
        chi_of(h2.state(), "cu_metal_rt.xdi"),
        chi_of(h.state(), "cu_metal_rt.xdi")
    );

    // File ▸ Open session reads the files on a worker thread: frames go on
    // while it runs, and the result is the same.
    let mut h3 = harness(CartoApp::new());
    h3.state_mut()
        .open_session_in_background(path.clone(), true, None);
    assert!(h3.state().busy());
    settle(&mut h3);
    assert_eq!(h3.state().to_session(), saved);
    assert_eq!(h3.state().session_path.as_deref(), Some(path.as_path()));
    assert_eq!(h3.state().history.undo.len(), h.state().history.undo.len());
}

#[test]
fn recovery_offer_restores_the_autosaved_session() {
    let dir = std::env::temp_dir().join(format!("carto-gui-recovery-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("recovery.json");
    let mut before = CartoApp::new();
    before.open_paths(&[common::data("xas/xdi/cu_metal_rt.xdi")]);
    before.to_session().save(&path).expect("autosave");

    let mut app = CartoApp::new();
    app.recovery_offer = Some(path);
    let mut h = harness(app);
    h.step();
    h.get_by_label("Restore").click();
    settle(&mut h);
    assert!(h.state().recovery_offer.is_none());
    assert_eq!(h.state().to_session(), before.to_session());
    assert!(
        h.state().session_path.is_none(),
        "Save asks where, not the recovery file"
    );
}

/// Step frames until `done` holds (bounded: a hung job fails the test).
fn step_until(h: &mut Harness<'_, CartoApp>, what: &str, done: impl Fn(&CartoApp) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h.state()) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "{what} did not finish; log: {:?}",
            h.state().log.lines
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    h.step();
}

#[test]
fn fit_model_opens_fits_and_plots() {
    let dir = std::env::temp_dir().join(format!("carto-gui-fit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let model = dir.join("cu_1shell.toml");
    std::fs::write(&model, common::feffit_model_text("cu_1shell")).expect("write model");

    let mut app = CartoApp::new();
    // Like `carto MODEL.toml`: the model goes to the Fit view, read in the
    // background.
    app.open_paths(std::slice::from_ref(&model));
    assert_eq!(app.view, carto::gui::views::FIT);
    assert!(app.store.items.is_empty(), "a model is not a spectrum");
    let mut h = harness(app);
    step_until(&mut h, "opening the model", |a| !a.fit_panel().busy());
    {
        let app = h.state();
        assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
        let m = app.store.fit.model.as_ref().expect("model loaded");
        assert_eq!(m.params.len(), 4);
        assert!(
            app.fit_panel().invalid.is_none(),
            "{:?}",
            app.fit_panel().invalid
        );
        assert!(app.fit_panel().can_fit(&app.store.fit));
        assert!(
            app.fit_panel().curves(&app.store.fit).is_none(),
            "no fit yet"
        );
    }

    // Typing an expression naming an unknown parameter makes the model
    // invalid and disables the fit; clearing it makes it valid again.
    h.get_by_label("amp expr").focus();
    h.step();
    h.get_by_label("amp expr").type_text("no_such_param * 2");
    h.step();
    {
        let app = h.state_mut();
        let doc = &app.store.fit;
        let expr = doc.model.as_ref().and_then(|m| m.params[0].expr.clone());
        assert_eq!(expr.as_deref(), Some("no_such_param * 2"));
        let err = app.fit_panel().invalid.clone().unwrap_or_default();
        assert!(err.contains("no_such_param"), "{err:?}");
        assert!(!app.fit_panel().can_fit(doc));
        if let Some(m) = &mut app.store.fit.model {
            m.params[0].expr = None;
        }
        let (panel, doc) = app.fit_panel_and_doc();
        panel.validate(doc);
        assert!(panel.invalid.is_none(), "{:?}", panel.invalid);
    }
    h.step();
    // The table's widgets are named for assistive tools (and tests).
    h.get_by_label("del_r value").set_value_accesskit(0.0);
    h.step();
    assert!(h.state().fit_panel().invalid.is_none());

    h.get_by_label("Run fit").click();
    h.step();
    // The fit may already be over here, or still running: wait either way.
    step_until(&mut h, "the fit", |a| !a.fit_panel().busy());

    let app = h.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    let res = app.store.fit.result.as_ref().expect("a fit result");
    let amp = res
        .params
        .iter()
        .find(|p| p.name == "amp")
        .expect("amp")
        .value;
    assert!((amp - 0.9304625).abs() < 1e-3, "amp = {amp}");
    assert!(
        app.store.fit.report.contains("amp"),
        "{}",
        app.store.fit.report
    );
    let c = app
        .fit_panel()
        .curves(&app.store.fit)
        .expect("curves after the fit");
    assert_eq!(c.kweight, 2.0);
    for (name, pts) in [
        ("k data", &c.k_data),
        ("k fit", &c.k_fit),
        ("residual", &c.k_residual),
        ("R data", &c.r_data),
        ("R fit", &c.r_fit),
    ] {
        assert!(pts.len() > 10, "{name}: {} points", pts.len());
        assert!(
            pts.iter().any(|p| p[1] != 0.0 && p[1].is_finite()),
            "{name} is empty"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dropped_fit_model_opens_in_the_fit_view_and_a_bad_one_is_logged() {
    let dir = std::env::temp_dir().join(format!("carto-gui-fit-drop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[params]\namp = { value = \n").expect("write");
    let good = dir.join("cu_1shell_k.toml");
    std::fs::write(&good, common::feffit_model_text("cu_1shell_k")).expect("write");

    let mut h = harness(CartoApp::new());
    h.step();
    h.input_mut().dropped_files = vec![std::sync::Arc::new(Dropped(bad.clone()))];
    step_until(&mut h, "opening the bad model", |a| !a.fit_panel().busy());
    {
        let app = h.state();
        assert_eq!(app.view, carto::gui::views::FIT);
        assert!(app.store.fit.model.is_none());
        let errors: Vec<&str> = app.log.errors().collect();
        assert!(errors.iter().any(|e| e.contains("bad.toml")), "{errors:?}");
        assert!(!app.fit_panel().can_fit(&app.store.fit));
    }
    h.input_mut().dropped_files = vec![std::sync::Arc::new(Dropped(good.clone()))];
    step_until(&mut h, "opening the model", |a| !a.fit_panel().busy());
    let app = h.state();
    assert!(app.store.items.is_empty(), "a model is not a spectrum");
    assert_eq!(app.store.fit.path.as_deref(), Some(good.as_path()));
    assert!(app.store.fit.model.is_some());
    assert!(
        app.fit_panel().can_fit(&app.store.fit),
        "{:?}",
        app.fit_panel().invalid
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fit_can_be_cancelled() {
    let dir = std::env::temp_dir().join(format!("carto-gui-fit-cancel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let model = dir.join("cu_3shell.toml");
    std::fs::write(&model, common::feffit_model_text("cu_3shell")).expect("write model");
    let mut app = CartoApp::new();
    app.open_paths(std::slice::from_ref(&model));
    let mut h = harness(app);
    step_until(&mut h, "opening the model", |a| !a.fit_panel().busy());
    assert!(
        h.state().fit_panel().can_fit(&h.state().store.fit),
        "{:?}",
        h.state().log.lines
    );
    h.get_by_label("Run fit").click();
    h.step();
    assert!(h.state().fit_panel().fitting.is_some() || h.state().store.fit.result.is_some());
    // The button is drawn in the frame that started the fit; the fit may
    // end before the click lands, and then the click does nothing.
    h.get_by_label("Cancel fit").click();
    step_until(&mut h, "the cancelled fit", |a| !a.fit_panel().busy());
    let app = h.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    let cancelled = app
        .log
        .lines
        .iter()
        .any(|l| l.text.contains("fit cancelled"));
    assert!(
        cancelled != app.store.fit.result.is_some(),
        "either cancelled or finished: {:?}",
        app.log.lines
    );
    assert!(
        app.fit_panel().can_fit(&app.store.fit),
        "the fit can run again"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Set a text field as assistive tools do, and let the frame after it
/// settle (a layout change discards a frame, and the input with it).
fn set_text(h: &mut Harness<'_, CartoApp>, label: &str, text: &str) {
    h.step();
    h.get_by_label(label).set_text_value_accesskit(text);
    h.step();
    h.step();
}

/// Set a number field (DragValue, Slider) the same way.
fn set_number(h: &mut Harness<'_, CartoApp>, label: &str, value: f64) {
    h.step();
    h.get_by_label(label).set_value_accesskit(value);
    h.step();
    h.step();
}

/// A fit result's parameter value by name.
fn fitted(res: &carto::exafs::FitResult, name: &str) -> f64 {
    res.params
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .value
}

/// Open the committed model `name` (copied into `dir`) and wait for it.
fn open_fit_model(dir: &std::path::Path, name: &str) -> Harness<'static, CartoApp> {
    std::fs::create_dir_all(dir).expect("dir");
    let model = dir.join(format!("{name}.toml"));
    std::fs::write(&model, common::feffit_model_text(name)).expect("write model");
    let mut app = CartoApp::new();
    app.open_paths(std::slice::from_ref(&model));
    let mut h = harness(app);
    step_until(&mut h, "opening the model", |a| !a.fit_panel().busy());
    assert!(
        h.state().fit_panel().can_fit(&h.state().store.fit),
        "{:?}",
        h.state().log.lines
    );
    h
}

/// Run the fit from the button and wait for it.
fn run_fit(h: &mut Harness<'_, CartoApp>) -> carto::exafs::FitResult {
    h.get_by_label("Run fit").click();
    h.step();
    step_until(h, "the fit", |a| !a.fit_panel().busy());
    let app = h.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    app.store.fit.result.clone().expect("a fit result")
}

#[test]
fn fit_model_is_edited_saved_and_restored_from_a_session() {
    let dir = std::env::temp_dir().join(format!("carto-gui-fit-edit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut h = open_fit_model(&dir, "cu_1shell");

    // A new parameter: bad names are refused with a message, a good one is
    // added (varied, value 0), then removed again.
    let n_params = |h: &Harness<'_, CartoApp>| {
        h.state()
            .store
            .fit
            .model
            .as_ref()
            .expect("model")
            .params
            .len()
    };
    for (bad, why) in [
        ("2x", "not a valid identifier"),
        ("amp", "already defined"),
        ("reff", "reserved"),
    ] {
        set_text(&mut h, "new parameter name", bad);
        assert!(
            h.query_by_label_contains(why).is_some(),
            "{bad}: no '{why}'"
        );
        h.get_by_label("Add parameter").click();
        h.step();
        assert_eq!(n_params(&h), 4, "{bad} was not added");
    }
    set_text(&mut h, "new parameter name", "sig2_2");
    h.get_by_label("Add parameter").click();
    h.step();
    {
        let m = h.state().store.fit.model.as_ref().expect("model");
        assert_eq!(m.params.len(), 5);
        let p = &m.params[4];
        assert_eq!((p.name.as_str(), p.value, p.vary), ("sig2_2", 0.0, true));
    }
    h.step();
    h.get_by_label("remove parameter sig2_2").click();
    h.step();
    assert_eq!(n_params(&h), 4, "removed");

    // Drop a FEFF path on the Fit view: it becomes path 2 with defaults.
    let feff2 = common::data("feff/cu/feff0002.dat");
    h.input_mut().dropped_files = vec![std::sync::Arc::new(Dropped(feff2.clone()))];
    h.step();
    h.step();
    {
        let app = h.state();
        assert!(app.store.items.is_empty(), "a path is not a spectrum");
        let m = app.store.fit.model.as_ref().expect("model");
        let paths = &m.datasets[0].paths;
        assert_eq!(paths.len(), 2, "{:?}", app.log.lines);
        assert_eq!(paths[1].label, "feff0002");
        assert!(paths[1].values.iter().all(Option::is_none), "defaults");
        assert!(
            app.fit_panel().invalid.is_none(),
            "{:?}",
            app.fit_panel().invalid
        );
    }
    // Its parameters, typed in: an unfinished expression names the field
    // and disables the fit; finishing it makes the model valid.
    for (field, text) in [
        ("path 2 s02", "amp"),
        ("path 2 e0", "del_e0"),
        ("path 2 sigma2", "sig2*1.5"),
        ("path 2 deltar", "del_r *"),
    ] {
        set_text(&mut h, field, text);
    }
    h.step();
    {
        let fit = h.state().fit_panel();
        let err = fit.invalid.clone().unwrap_or_default();
        assert!(err.contains("path 2") && err.contains("deltar"), "{err:?}");
        assert!(!fit.can_fit(&h.state().store.fit));
        assert!(h.query_by_label_contains("deltar expression").is_some());
    }
    set_text(&mut h, "path 2 deltar", "del_r * 1.0");
    assert!(
        h.state().fit_panel().invalid.is_none(),
        "{:?}",
        h.state().fit_panel().invalid
    );

    // The transform: kmax, and a bad then a good k-weight list.
    set_number(&mut h, "transform kmax", 16.0);
    set_text(&mut h, "transform kweight", "2, x");
    {
        let err = h.state().fit_panel().invalid.clone().unwrap_or_default();
        assert!(err.contains("kweight") && err.contains("'x'"), "{err:?}");
        assert!(!h.state().fit_panel().can_fit(&h.state().store.fit));
    }
    h.step();
    set_text(&mut h, "transform kweight", "2, 3");
    {
        let fit = &h.state().store.fit;
        let invalid = &h.state().fit_panel().invalid;
        assert!(invalid.is_none(), "{invalid:?}");
        let tr = &fit.model.as_ref().expect("model").datasets[0].transform;
        assert_eq!(tr.kmax, 16.0);
        assert_eq!(
            (tr.kweight.as_slice(), tr.kweight_list),
            ([2.0, 3.0].as_slice(), true)
        );
        assert!(fit.modified());
    }

    // Save the model elsewhere: relative names follow, the file reads back.
    let saved = dir.join("out").join("edited.toml");
    std::fs::create_dir_all(saved.parent().expect("parent")).expect("dir");
    {
        let app = &mut h.state_mut().state;
        assert!(app.save_fit_model(&saved), "{:?}", app.log.lines);
        assert!(!app.store.fit.modified());
    }
    let text = std::fs::read_to_string(&saved).expect("saved model");
    assert!(
        text.contains("feff0002.dat") && text.contains("sig2*1.5"),
        "{text}"
    );
    assert!(!saved.with_extension("toml.tmp").exists());
    let reread = carto::exafs::model::load_model(&saved).expect("saved model reads back");
    assert_eq!(
        reread.params,
        h.state().store.fit.model.as_ref().expect("m").params
    );
    assert_eq!(reread.datasets[0].paths.len(), 2);

    // Edit once more (unsaved), fit, save the session.
    set_number(&mut h, "del_r value", 0.01);
    let before = run_fit(&mut h);
    let session = dir.join("s.carto");
    {
        let app = h.state_mut();
        assert!(app.save_session(&session), "{:?}", app.log.lines);
    }
    let edited = h.state().store.fit.model.clone().expect("model");

    // A fresh app opens the session: same model, same fit.
    let mut app = CartoApp::new();
    assert!(app.open_session(&session));
    assert_eq!(app.view, carto::gui::views::FIT);
    let mut h2 = harness(app);
    step_until(&mut h2, "opening the session's model", |a| {
        !a.fit_panel().busy()
    });
    {
        let app = h2.state();
        assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
        let m = app.store.fit.model.as_ref().expect("model restored");
        assert_eq!(m.params, edited.params);
        assert_eq!(m.datasets[0].transform, edited.datasets[0].transform);
        let labels = |m: &carto::exafs::FitModel| {
            m.datasets[0]
                .paths
                .iter()
                .map(|p| (p.label.clone(), p.values.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(labels(m), labels(&edited));
        assert!(app.store.fit.modified(), "unsaved edits came back as edits");
    }
    let after = run_fit(&mut h2);
    assert_eq!(after.params, before.params);
    assert_eq!(after.stats, before.stats);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn live_mode_holds_the_dragged_parameter_and_refits_the_others() {
    let dir = std::env::temp_dir().join(format!("carto-gui-fit-live-{}", std::process::id()));
    let mut h = open_fit_model(&dir, "cu_1shell");
    let first = run_fit(&mut h);

    h.get_by_label("Live").click();
    h.step();
    let (lo, hi) = {
        let live = &h.state().fit_panel().live;
        assert!(live.on);
        let names: Vec<&str> = live.sliders.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(names, ["amp", "del_e0", "sig2", "del_r"]);
        let s = live
            .sliders
            .iter()
            .find(|s| s.0 == "del_r")
            .expect("slider");
        assert!(
            (s.1 - fitted(&first, "del_r")).abs() < 1e-12,
            "starts at the fit: {s:?} vs {}",
            fitted(&first, "del_r")
        );
        s.2
    };
    assert!(lo < hi);
    // The slider moved as assistive tools move it starts a live fit; a
    // second move while it may still run (as a drag gives) waits for it,
    // and the last one wins.
    set_number(&mut h, "live del_r", lo + 0.7 * (hi - lo));
    assert!(h.state().fit_panel().live.fits >= 1 || h.state().fit_panel().live.busy());
    h.state_mut()
        .fit_panel_mut()
        .live_set("del_r", lo + 0.9 * (hi - lo));
    step_until(&mut h, "the live fits", |a| !a.fit_panel().busy());
    let app = h.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    let live = &app.fit_panel().live;
    assert!(live.error.is_none(), "{:?}", live.error);
    assert!(live.fits >= 1);
    let slider = live
        .sliders
        .iter()
        .find(|s| s.0 == "del_r")
        .expect("slider")
        .1;
    assert!((slider - (lo + 0.9 * (hi - lo))).abs() < 1e-5 * (hi - lo).max(1e-3));
    assert_eq!(live.held, Some(("del_r".to_string(), slider)));
    let res = app.store.fit.result.as_ref().expect("a live result");
    let del_r = res
        .params
        .iter()
        .find(|p| p.name == "del_r")
        .expect("del_r");
    assert_eq!(del_r.value, slider, "held at the slider value");
    assert!(!del_r.vary);
    for name in ["amp", "del_e0", "sig2"] {
        let (a, b) = (fitted(&first, name), fitted(res, name));
        assert!(a != b, "{name} was refitted: {a} vs {b}");
        let s = live.sliders.iter().find(|s| s.0 == name).expect("slider").1;
        assert_eq!(s, b, "{name}'s slider follows the fit");
    }
    assert_eq!(res.stats.n_varys, 3);
    assert!(res.stats.chi_square.is_finite() && res.stats.chi_square > first.stats.chi_square);
    assert!(
        h.query_all_by_label_contains("χ²_red").next().is_some(),
        "statistics shown"
    );
    assert!(h.query_by_label_contains("del_r held at").is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_dropped_feff_folder_adds_its_paths_and_paths_can_be_removed() {
    let dir = std::env::temp_dir().join(format!("carto-gui-fit-folder-{}", std::process::id()));
    let mut h = open_fit_model(&dir, "cu_1shell_k");
    let folder = common::data("feff/cu");
    let n_files = std::fs::read_dir(&folder)
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| carto::gui::fit::is_feff_path_file(&e.path()))
        .count();
    assert!(n_files >= 3);
    h.input_mut().dropped_files = vec![std::sync::Arc::new(Dropped(folder))];
    h.step();
    h.step();
    {
        let app = h.state();
        assert!(app.store.items.is_empty(), "paths are not spectra");
        let paths = &app.store.fit.model.as_ref().expect("model").datasets[0].paths;
        assert_eq!(paths.len(), 1 + n_files, "{:?}", app.log.lines);
        assert_eq!(paths[1].label, "feff0001");
        assert!(
            app.fit_panel().invalid.is_none(),
            "{:?}",
            app.fit_panel().invalid
        );
        assert!(app.store.fit.modified());
    }
    let last = format!("remove path {}", 1 + n_files);
    for label in [last.as_str(), "remove path 2"] {
        h.step();
        h.get_by_label(label).click_accesskit();
        h.step();
        h.step();
    }
    let paths = &h.state().store.fit.model.as_ref().expect("model").datasets[0].paths;
    assert_eq!(paths.len(), n_files - 1);
    assert_eq!(paths[1].label, "feff0002", "the others keep their order");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- The XRD view ----

use carto::gui::xrd::{XrdRole, XrdSeries};

/// The curves of one role in the XRD plot.
fn xrd_series(app: &CartoApp, role: XrdRole) -> Vec<XrdSeries> {
    app.xrd_panel()
        .series(&app.store)
        .into_iter()
        .filter(|s| s.role == role)
        .collect()
}

/// The point with the largest y of a curve.
fn strongest(points: &[[f64; 2]]) -> [f64; 2] {
    points
        .iter()
        .copied()
        .max_by(|a, b| a[1].total_cmp(&b[1]))
        .expect("points")
}

/// Set a slider (which also shows its value in a field of the same name).
fn set_slider(h: &mut Harness<'_, CartoApp>, label: &str, value: f64) {
    h.step();
    h.get_by_role_and_label(egui::accesskit::Role::Slider, label)
        .set_value_accesskit(value);
    h.step();
    h.step();
}

/// quartz.xy open in the XRD view, CuKa typed in the wavelength field.
fn quartz_in_xrd_view() -> Harness<'static, CartoApp> {
    let mut app = CartoApp::new();
    app.open_paths(&[common::data("xrd/quartz.xy")]);
    assert_eq!(app.view, carto::gui::views::XRD, "{:?}", app.log.lines);
    assert!(app.store.items.is_empty(), "a pattern is not a spectrum");
    assert_eq!(app.store.patterns.len(), 1);
    let mut h = harness(app);
    h.step();
    set_text(&mut h, "wavelength", "CuKa");
    let e = h
        .state()
        .xrd_panel()
        .active_entry(&h.state().store.patterns)
        .expect("active pattern");
    assert_eq!(e.wavelength(), Ok(Some(1.54184)));
    h
}

#[test]
fn xrd_pattern_on_a_d_axis_with_peak_fits_and_phase_sticks() {
    let mut h = quartz_in_xrd_view();
    // 2θ first: quartz 101 at 26.64°.
    // (The strongest point of the scan, 0.039° steps, is at 26.583°.)
    let p = xrd_series(h.state(), XrdRole::Pattern);
    assert_eq!(p.len(), 1);
    assert!((strongest(&p[0].points)[0] - 26.6).abs() < 0.05);
    assert_eq!(xrd_series(h.state(), XrdRole::Background).len(), 1);
    assert_eq!(xrd_series(h.state(), XrdRole::Peaks).len(), 1);

    h.get_by_label("d (Å)").click();
    h.step();
    h.step();
    let p = xrd_series(h.state(), XrdRole::Pattern);
    let top = strongest(&p[0].points);
    assert!(
        (top[0] - 3.34).abs() < 0.015,
        "strongest point at d = {}",
        top[0]
    );

    // Without a wavelength the d axis has nothing to show, and says why.
    set_text(&mut h, "wavelength", "");
    assert!(xrd_series(h.state(), XrdRole::Pattern).is_empty());
    assert_eq!(
        h.state()
            .xrd_panel()
            .missing_wavelength(&h.state().store.patterns),
        ["quartz"]
    );
    set_text(&mut h, "wavelength", "1.54184");
    assert_eq!(xrd_series(h.state(), XrdRole::Pattern).len(), 1);

    // Peak fits in the background: the 101 peak, its d.
    h.get_by_label("Fit peaks").click();
    step_until(&mut h, "the peak fits", |a| !a.xrd_panel().busy());
    let rows = h.state().xrd_panel().peak_rows(&h.state().store.patterns);
    assert!(rows.len() > 5, "{rows:?}");
    let best = rows
        .iter()
        .filter(|r| r.area.is_some())
        .max_by(|a, b| a.area.unwrap_or(0.0).total_cmp(&b.area.unwrap_or(0.0)))
        .expect("a fitted peak");
    assert!((best.two_theta - 26.62).abs() < 0.05, "{best:?}");
    assert!(best.two_theta_err.is_some_and(|e| e < 0.01), "{best:?}");
    assert!(best.d.is_some_and(|d| (d - 3.345).abs() < 0.01), "{best:?}");
    assert!(best.fwhm.is_some_and(|w| w > 0.0 && w < 0.5), "{best:?}");

    // A CIF phase: sticks at the pattern's wavelength, inside its range.
    {
        let app = &mut h.state_mut().state;
        app.store.add_cifs(
            &[common::data("cif/amcsd/quartz_amcsd11008.cif")],
            &mut app.log,
        );
    }
    h.step();
    h.step();
    let sticks = xrd_series(h.state(), XrdRole::Sticks);
    assert_eq!(sticks.len(), 1, "{:?}", h.state().log.lines);
    assert_eq!(sticks[0].name, "quartz_amcsd11008");
    assert!(sticks[0].points.len() > 10);
    let (dmin, dmax) = p[0]
        .points
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), q| {
            (a.min(q[0]), b.max(q[0]))
        });
    assert!(
        sticks[0]
            .points
            .iter()
            .all(|q| q[0] >= dmin - 1e-9 && q[0] <= dmax + 1e-9)
    );
    // The CIF is a compressed quartz: its strongest line sits 2.8 % low in
    // d; the lattice handle moves the sticks onto the measured peak.
    let d0 = strongest(&sticks[0].points)[0];
    assert!(
        (d0 / 3.343 - 0.972).abs() < 0.005,
        "strongest stick at d = {d0}"
    );
    set_slider(&mut h, "lattice", 1.028);
    let sticks = xrd_series(h.state(), XrdRole::Sticks);
    let d1 = strongest(&sticks[0].points)[0];
    assert!((d1 - 1.028 * d0).abs() < 1e-6, "{d1} vs {d0}");
    assert!((d1 - 3.343).abs() < 0.01, "moved stick at d = {d1}");
    // The broadened overlay follows too.
    h.get_by_label("broadened").click();
    h.step();
    h.step();
    let b = xrd_series(h.state(), XrdRole::Broadened);
    assert_eq!(b.len(), 1);
    assert!((strongest(&b[0].points)[0] - 3.343).abs() < 0.02);
    assert!(
        h.state().log.errors().next().is_none(),
        "{:?}",
        h.state().log.lines
    );
}

/// Quartz in the XRD view with the AMCSD candidate library read.
fn quartz_with_the_amcsd_library() -> Harness<'static, CartoApp> {
    let mut h = quartz_in_xrd_view();
    h.state_mut()
        .load_candidate_library(common::data("cif/amcsd"), None);
    step_until(&mut h, "reading the library", |a| !a.xrd_panel().busy());
    h
}

#[test]
fn xrd_ranking_puts_the_compressed_quartz_first_and_overlays_it() {
    let mut h = quartz_with_the_amcsd_library();
    assert_eq!(h.state().store.library.candidates.len(), 35);
    // The CIF is 2.8 % compressed: allow the lattice to scale by 3 %.
    set_number(&mut h, "max scale", 0.03);
    h.get_by_label("Rank for selected pattern").click();
    h.step();
    step_until(&mut h, "the ranking", |a| !a.xrd_panel().busy());
    let rk = h.state().store.library.ranked.clone().expect("a ranking");
    let first = &rk.rows[0];
    assert_eq!(first.id, "quartz_amcsd11008", "{:?}", &rk.rows[..3]);
    assert!(first.score > 0.9, "{first:?}");
    assert!((first.scale - 1.028).abs() < 0.005, "{first:?}");
    // The search box filters the table; clicking the row overlays the
    // candidate at its best scale.
    set_text(&mut h, "search", "amcsd11008");
    h.get_by_label("quartz_amcsd11008").click();
    h.step();
    h.step();
    let app = h.state();
    assert_eq!(app.store.phases.len(), 1);
    assert!((app.store.phases[0].lattice - first.scale).abs() < 1e-12);
    let sticks = xrd_series(app, XrdRole::Sticks);
    assert_eq!(sticks.len(), 1);
    let t = strongest(&sticks[0].points)[0];
    assert!((t - 26.64).abs() < 0.1, "strongest stick at 2θ = {t}");

    // A session keeps the library folder and the ranking; reopening reads
    // the library again and the ranking survives that.
    let saved = h.state().to_session();
    let mut h2 = harness(CartoApp::new());
    h2.state_mut().apply_session(&saved);
    assert_eq!(
        h2.state().store.library.ranked.as_ref().map(|r| &r.rows),
        Some(&rk.rows)
    );
    step_until(&mut h2, "reading the library", |a| !a.xrd_panel().busy());
    assert_eq!(h2.state().store.library.candidates.len(), 35);
    assert_eq!(
        h2.state().store.library.ranked.as_ref().map(|r| &r.rows),
        Some(&rk.rows)
    );
    assert_eq!(h2.state().to_session(), saved);
}

/// Mix2 in the XRD view, quantified through the dialog against the
/// RockJock library with 20 % corundum as the internal standard.
fn quantified_mix2() -> Harness<'static, CartoApp> {
    let mut app = CartoApp::new();
    app.open_paths(&[common::data("xrd/rockjock/mixtures/Mix2.xy")]);
    assert_eq!(app.view, carto::gui::views::XRD, "{:?}", app.log.lines);
    let mut h = harness(app);
    h.step();
    h.get_by_label("Quantify…").click();
    h.step();
    let lib = common::data("xrd/rockjock/library");
    set_text(&mut h, "library folder", &lib.display().to_string());
    h.get_by_label("internal standard").click();
    h.step();
    set_text(&mut h, "standard ID", "CORUNDUM");
    set_number(&mut h, "standard wt %", 20.0);
    h.get_by_label("Run quantification").click();
    h.step();
    step_until(&mut h, "the quantification", |a| !a.xrd_panel().busy());
    h
}

#[test]
fn xrd_quantification_with_an_internal_standard() {
    let h = quantified_mix2();
    let lib = common::data("xrd/rockjock/library");
    let app = h.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    let rows = app.store.quant.rows();
    let w = |id: &str| {
        rows.iter()
            .filter(|r| r.id == id)
            .map(|r| r.weight_percent)
            .sum::<f64>()
    };
    assert!((w("CORUNDUM") - 20.0).abs() < 1e-9, "{rows:?}");
    // Mix2 holds 4 % quartz (measured 4.4).
    let quartz = w("QUARTZ") + w("QUARTZ_2");
    assert!((quartz - 4.4).abs() < 1.5, "quartz {quartz} %: {rows:?}");
    // The plot: measured, fitted, and each phase's contribution.
    assert_eq!(app.xrd_panel().tab, carto::gui::xrd::XrdTab::Quantification);
    assert_eq!(xrd_series(app, XrdRole::Measured).len(), 1);
    assert_eq!(xrd_series(app, XrdRole::Fitted).len(), 1);
    // The eight strongest phases in bands, the rest in one.
    let contrib = xrd_series(app, XrdRole::Contribution);
    assert_eq!(contrib.len(), 9);
    assert!(
        contrib[0].name.starts_with(&rows[0].id),
        "{}",
        contrib[0].name
    );
    assert!(contrib[8].name.contains("other phases"));
    // Stacked: the last band's top is the fit.
    let fit = &xrd_series(app, XrdRole::Fitted)[0].points;
    let top = &contrib[contrib.len() - 1].points;
    let diff = fit
        .iter()
        .zip(top)
        .map(|(a, b)| (a[1] - b[1]).abs())
        .fold(0.0, f64::max);
    let scale = strongest(fit)[1];
    assert!(diff < 1e-6 * scale, "stack top vs fit: {diff}");

    // A session keeps the settings and the table; reopening quantifies
    // again in the background (the library is there) and gets the same.
    let saved = h.state().to_session();
    let q = saved
        .xrd
        .as_ref()
        .and_then(|x| x.quant.as_ref())
        .expect("quant saved");
    assert_eq!(q.standard_id, "CORUNDUM");
    let mut h3 = harness(CartoApp::new());
    h3.state_mut().apply_session(&saved);
    assert_eq!(h3.state().store.quant.rows(), rows, "the table at once");
    step_until(&mut h3, "the quantification", |a| !a.xrd_panel().busy());
    assert_eq!(h3.state().store.quant.rows(), rows);
    assert_eq!(xrd_series(h3.state(), XrdRole::Contribution).len(), 9);
    assert_eq!(h3.state().to_session(), saved);

    // A standard that is not in the library: an error, no crash.
    let mut h2 = harness({
        let mut a = CartoApp::new();
        a.open_paths(&[common::data("xrd/rockjock/mixtures/Mix2.xy")]);
        a
    });
    h2.step();
    h2.get_by_label("Quantify…").click();
    h2.step();
    set_text(&mut h2, "library folder", &lib.display().to_string());
    h2.get_by_label("internal standard").click();
    h2.step();
    set_text(&mut h2, "standard ID", "RUBY");
    h2.get_by_label("Run quantification").click();
    h2.step();
    step_until(&mut h2, "the quantification", |a| !a.xrd_panel().busy());
    assert!(h2.state().log.errors().any(|e| e.contains("RUBY")));
    assert!(h2.state().store.quant.rows().is_empty());
}

#[test]
fn xrd_session_round_trip() {
    let mut h = quartz_in_xrd_view();
    set_number(&mut h, "SNIP window", 0.7);
    // The other background method, from its combo box.
    let snip_bkg = xrd_series(h.state(), XrdRole::Background)[0].points.clone();
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "background")
        .click();
    h.step();
    h.step();
    h.get_by_label("Sonneveld–Visser").click();
    h.step();
    h.step();
    assert_ne!(
        xrd_series(h.state(), XrdRole::Background)[0].points,
        snip_bkg,
        "Sonneveld–Visser gives another background"
    );
    h.get_by_label("d (Å)").click();
    h.step();
    {
        let app = &mut h.state_mut().state;
        app.store.add_cifs(
            &[common::data("cif/amcsd/quartz_amcsd11008.cif")],
            &mut app.log,
        );
    }
    h.step();
    set_slider(&mut h, "lattice", 1.02);
    let dir = std::env::temp_dir().join(format!("carto-gui-xrd-session-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("xrd.carto");
    assert!(h.state_mut().save_session(&path));
    let saved = h.state().to_session();
    let x = saved.xrd.as_ref().expect("the XRD view is saved");
    assert_eq!(x.patterns.len(), 1);
    assert_eq!(x.patterns[0].wavelength, "CuKa");
    assert_eq!(x.patterns[0].bkg_window_deg, 0.7);
    assert_eq!(
        x.patterns[0].bkg_method,
        carto::xrd::peaks::BackgroundMethod::SonneveldVisser
    );
    assert_eq!(x.patterns[0].sha256.len(), 64);
    assert_eq!(x.phases.len(), 1);
    assert_eq!(x.phases[0].lattice, 1.02);
    assert_eq!(x.axis, "d");
    assert!(saved.view.xrd_view);

    let mut h2 = harness(CartoApp::new());
    assert!(h2.state_mut().open_session(&path));
    settle(&mut h2);
    let app = h2.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    assert_eq!(app.to_session(), saved);
    assert_eq!(app.view, carto::gui::views::XRD);
    // The same curves as before the save.
    for role in [XrdRole::Pattern, XrdRole::Background, XrdRole::Sticks] {
        let a = xrd_series(h.state(), role);
        let b = xrd_series(app, role);
        assert_eq!(a.len(), 1, "{role:?}");
        assert_eq!(a[0].points, b[0].points, "{role:?}");
    }
    // Opened in the background (pattern and CIF read by the worker): the same.
    let mut h3 = harness(CartoApp::new());
    h3.state_mut()
        .open_session_in_background(path.clone(), true, None);
    settle(&mut h3);
    assert!(
        h3.state().log.errors().next().is_none(),
        "{:?}",
        h3.state().log.lines
    );
    assert_eq!(h3.state().to_session(), saved);
}

#[test]
fn xrd_files_are_routed_by_extension_and_content() {
    use carto::gui::xrd::is_xrd_file;
    let root = common::data_root();
    let mut n_xas = 0;
    let mut stack = vec![root.join("xas"), root.join("athena"), root.join("feff")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("list").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                assert!(!is_xrd_file(&p), "{} is not XRD", p.display());
                n_xas += 1;
            }
        }
    }
    assert!(n_xas > 50);
    let mut xrd = common::data_files("xrd");
    xrd.extend(common::data_files("xrd/bruker_raw"));
    xrd.extend(common::data_files("xrd/soils"));
    xrd.extend(common::data_files("xrd/rockjock/mixtures"));
    let xrd: Vec<_> = xrd
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| {
                ["xy", "chi", "raw"].contains(&e.to_string_lossy().to_lowercase().as_str())
            })
        })
        .collect();
    assert!(xrd.len() > 10);
    for p in &xrd {
        assert!(is_xrd_file(p), "{} is XRD", p.display());
    }
}

#[test]
fn dropped_patterns_go_to_the_xrd_view_and_spectra_stay_spectra() {
    let mut h = harness(CartoApp::new());
    h.step();
    // A folder of patterns, a Bruker RAW, a Fit2D .chi and a Larch χ(k) .chi.
    h.input_mut().dropped_files = vec![
        std::sync::Arc::new(Dropped(common::data("xrd/soils"))),
        std::sync::Arc::new(Dropped(common::data("xrd/bruker_raw/D5000_1.RAW"))),
        std::sync::Arc::new(Dropped(common::data("xrd/pattern_001.chi"))),
        std::sync::Arc::new(Dropped(common::data("xas/chi/cu.chi"))),
    ];
    settle(&mut h);
    let app = h.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    assert_eq!(app.store.items.len(), 1, "cu.chi is a spectrum");
    assert!(app.store.find("cu.chi").is_some());
    let names: Vec<&str> = app.store.patterns.iter().map(|p| p.name.as_str()).collect();
    let n_soils = common::data_files("xrd/soils").len();
    assert_eq!(names.len(), n_soils + 2, "{names:?}");
    assert!(names.contains(&"D5000_1") && names.contains(&"pattern_001"));
    // Spectra came too: the Spectra view shows; the XRD view holds the rest.
    assert_eq!(app.view, carto::gui::views::SPECTRA);
    assert_eq!(app.xrd_panel().selected.len(), names.len());
    // In the XRD view, click one pattern, Ctrl-click a second: both overlaid.
    h.state_mut().view = carto::gui::views::XRD;
    h.step();
    tree_entry(&h, "granite").click();
    h.step();
    assert_eq!(xrd_series(h.state(), XrdRole::Pattern).len(), 1);
    tree_entry(&h, "sandstone").click_modifiers(egui::Modifiers::COMMAND);
    h.step();
    let names: Vec<String> = xrd_series(h.state(), XrdRole::Pattern)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["granite", "sandstone"]);
    // Only patterns: the XRD view.
    let mut h = harness(CartoApp::new());
    h.step();
    // Only patterns (and a CIF, which becomes a phase): the XRD view.
    let mut h = harness(CartoApp::new());
    h.step();
    h.input_mut().dropped_files = vec![
        std::sync::Arc::new(Dropped(common::data("xrd/bruker_raw/D5000_1.RAW"))),
        std::sync::Arc::new(Dropped(common::data("cif/amcsd/quartz_amcsd11008.cif"))),
    ];
    settle(&mut h);
    let app = h.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    assert_eq!(app.view, carto::gui::views::XRD);
    assert_eq!(app.store.patterns.len(), 1);
    assert_eq!(app.store.phases.len(), 1);
    // The RAW file records Co Kα1: the sticks are simulated with it.
    let e = app
        .xrd_panel()
        .active_entry(&app.store.patterns)
        .expect("active");
    assert!(matches!(e.wavelength(), Ok(Some(l)) if (l - 1.78897).abs() < 1e-4));
    assert_eq!(xrd_series(app, XrdRole::Sticks).len(), 1);
}

#[test]
fn plot_exports_as_svg_with_every_curve() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/feo_rt1.xdi"),
        common::data("xas/columns/fe2o3_rt1.xmu"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    let ids: Vec<u64> = h.state().store.items.iter().map(|i| i.id).collect();
    h.state_mut().selection.select_only(&ids);
    h.state_mut().plots.tab = PlotTab::ChiK;
    h.step();
    let dir = std::env::temp_dir().join(format!("carto-svg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("chik.svg");
    assert!(h.state_mut().export_svg(&path));
    let svg = std::fs::read_to_string(&path).expect("svg");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    // Two spectra and their two FT windows, named like the legend.
    assert_eq!(svg.matches("<polyline").count(), 4, "{svg}");
    for name in ["feo_rt1.xdi", "fe2o3_rt1.xmu"] {
        assert!(svg.contains(&format!(r#"data-name="{name}""#)), "{name}");
    }
    assert!(svg.contains("k (Å⁻¹)"), "x axis label");
    // Every point of a spectrum is written (the χ(k) grid of feo_rt1).
    let feo = h.state().store.find("feo_rt1.xdi").expect("feo");
    let npts = h
        .state()
        .store
        .items
        .iter()
        .find(|i| i.id == feo)
        .and_then(|i| i.spectrum())
        .and_then(|s| s.result.as_ref())
        .map(|r| r.k_inv_ang.len())
        .expect("processed");
    let line = svg
        .lines()
        .find(|l| l.contains(r#"data-name="feo_rt1.xdi""#))
        .expect("feo polyline");
    let pts = line
        .split("points=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("");
    assert_eq!(pts.split_whitespace().count(), npts);
    // Nothing selected: nothing to export, a warning, no file.
    h.state_mut().selection.select_only(&[]);
    h.step();
    assert!(!h.state_mut().export_svg(&dir.join("empty.svg")));
    assert!(!dir.join("empty.svg").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// μ(E) of a workspace item as processed (after its edits).
fn energies_of(app: &CartoApp, name: &str) -> Vec<f64> {
    mu_arrays(app, name).0
}

/// (energy, μ) of a workspace item as processed (after its edits).
fn mu_arrays(app: &CartoApp, name: &str) -> (Vec<f64>, Vec<f64>) {
    let id = app.store.find(name).expect("item");
    let s = app
        .store
        .item(id)
        .and_then(|i| i.spectrum())
        .expect("spectrum");
    match s.input.as_ref() {
        carto::gui::workspace::Input::Mu(x) => (x.energy_ev.clone(), x.mu.clone()),
        carto::gui::workspace::Input::Chi(_) => panic!("{name} is χ(k)"),
    }
}

/// Click the plot at a point given in plot units.
fn click_plot_at(h: &mut Harness<'_, CartoApp>, x: f64, y: f64) {
    let t = h.state().plots.transform().expect("plot drawn");
    let pos = t.position_from_point(&egui_plot::PlotPoint::new(x, y));
    for pressed in [true, false] {
        h.event(egui::Event::PointerMoved(pos));
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::default(),
        });
        h.step();
    }
    h.step();
}

#[test]
fn deglitch_by_clicking_then_undo_and_redo_with_the_keyboard() {
    let mut app = CartoApp::new();
    app.open_paths(&[common::data("xas/columns/cu_rt01.xmu")]);
    app.reset_history();
    let mut h = harness(app);
    settle(&mut h);
    let name = "cu_rt01.xmu";
    let before = energies_of(h.state(), name);
    h.state_mut().plots.tab = PlotTab::Mu;
    h.step();
    // The plot bar's toggle (also Process ▸ Deglitch by clicking points).
    h.get_by_label("deglitch").click();
    h.step();
    h.step();
    assert!(h.state().plots.deglitch);
    // The 300th measured point, clicked where the plot draws it.
    let (e, mu) = {
        let s = h.state();
        let id = s.store.find(name).expect("item");
        let r = s
            .store
            .item(id)
            .and_then(|i| i.spectrum())
            .and_then(|s| s.result.as_ref());
        let pre = r.and_then(|r| r.pre.as_ref()).expect("processed");
        (pre.energy_ev[300], pre.mu[300])
    };
    click_plot_at(&mut h, e, mu);
    let after = energies_of(h.state(), name);
    assert_eq!(after.len(), before.len() - 1, "{:?}", h.state().log.lines);
    assert!(!after.contains(&e), "the clicked point is gone");
    assert_eq!(
        h.state().history.undo_label(),
        Some(format!("deglitch the point at {e:.2} eV").as_str())
    );
    // χ(k) was recomputed from the deglitched data.
    settle(&mut h);
    let chi_deglitched = chi_of(h.state(), name);

    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.step();
    settle(&mut h);
    assert_eq!(
        energies_of(h.state(), name),
        before,
        "undo restores the point"
    );
    assert_ne!(chi_of(h.state(), name), chi_deglitched);
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.step();
    settle(&mut h);
    assert_eq!(energies_of(h.state(), name), after, "redo removes it again");
    assert_eq!(chi_of(h.state(), name), chi_deglitched);

    // The parameter panel lists the journal; × drops that edit.
    h.step();
    h.get_by_label("1. deglitch 1 point selection");
    h.get_by_label("×").click();
    h.step();
    h.step();
    assert_eq!(energies_of(h.state(), name), before, "edit removed");
    assert_eq!(
        h.state().history.undo_label(),
        Some("remove edit 1 (deglitch 1 point selection)")
    );
}

#[test]
fn merge_align_rebin_undo_and_the_history_survive_a_session() {
    use carto::xas::edit::Edit;
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/columns/cu_rt01.xmu"),
        common::data("xas/xdi/cu_metal_rt.xdi"),
    ]);
    app.reset_history();
    let mut h = harness(app);
    settle(&mut h);
    let (a, b) = ("cu_rt01.xmu", "cu_metal_rt.xdi");
    let ida = h.state().store.find(a).expect("a");
    let idb = h.state().store.find(b).expect("b");
    // Active = the reference (clicked last).
    h.state_mut().selection.select_only(&[idb, ida]);
    h.step();

    // Align b to a on a worker thread: the shift is energy_align's,
    // recorded as an edit.
    let (eb0, mb0) = mu_arrays(h.state(), b);
    let (ea0, ma0) = mu_arrays(h.state(), a);
    let e0a = {
        let s = h.state();
        let sp = s.store.item(ida).and_then(|i| i.spectrum());
        let r = sp
            .and_then(|s| s.result.as_ref())
            .and_then(|r| r.pre.as_ref());
        r.expect("a processed").e0
    };
    let want_shift = carto::xas::align::energy_align(
        &eb0,
        &mb0,
        &ea0,
        &ma0,
        e0a,
        &carto::xas::align::AlignParams::default(),
    )
    .expect("core align")
    .eshift_ev;
    assert_eq!(
        h.state_mut().align_selected(None),
        1,
        "{:?}",
        h.state().log.lines
    );
    settle(&mut h);
    let shift = match h
        .state()
        .store
        .item(idb)
        .and_then(|i| i.spectrum())
        .map(|s| s.edits.clone())
    {
        Some(v) => match v.as_slice() {
            [
                Edit::Shift {
                    eshift_ev,
                    reference,
                },
            ] => {
                assert_eq!(reference.as_deref(), Some(a));
                *eshift_ev
            }
            other => panic!("edits {other:?}"),
        },
        None => panic!("no spectrum"),
    };
    assert!(
        shift.abs() < 10.0,
        "two Cu foils align within a few eV: {shift}"
    );
    assert_eq!(shift, want_shift);
    let raw_b = energies_of(h.state(), b);

    // Merge: a new item on a's grid, selected.
    let merged = h.state_mut().merge_selected().expect("merged");
    h.step();
    settle(&mut h);
    let mname = h
        .state()
        .store
        .item(merged)
        .map(|i| i.name.clone())
        .expect("merged item");
    assert_eq!(h.state().history.undo_label(), Some("merge 2 spectra"));
    // It is the core's merge of the two (b as aligned) on a's grid.
    let (ea, ma) = mu_arrays(h.state(), a);
    let (eb, mb) = mu_arrays(h.state(), b);
    let want = carto::xas::merge::merge(
        &[(&ea, &ma), (&eb, &mb)],
        0,
        &carto::xas::merge::MergeParams::default(),
    )
    .expect("core merge");
    assert_eq!(mu_arrays(h.state(), &mname), (want.energy_ev, want.mu));

    // Rebin the merge: the core's rebin_xafs at the merge's e0.
    let (em, mm) = mu_arrays(h.state(), &mname);
    let e0 = {
        let s = h.state();
        let sp = s.store.item(merged).and_then(|i| i.spectrum());
        let r = sp
            .and_then(|s| s.result.as_ref())
            .and_then(|r| r.pre.as_ref());
        r.expect("merge processed").e0
    };
    assert_eq!(h.state_mut().rebin_selected(None), 1);
    h.step();
    settle(&mut h);
    let want = carto::xas::rebin::rebin_xafs(
        &em,
        &mm,
        &carto::xas::rebin::RebinParams {
            e0: Some(e0),
            ..Default::default()
        },
    )
    .expect("core rebin");
    assert_eq!(mu_arrays(h.state(), &mname), (want.energy_ev, want.mu));
    let n_rebinned = energies_of(h.state(), &mname).len();
    assert_ne!(n_rebinned, em.len());
    assert_eq!(h.state().history.undo.len(), 3);

    // Save, reopen: same workspace, same history; undo works there.
    let dir = std::env::temp_dir().join(format!("carto-gui-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("h.carto");
    assert!(h.state_mut().save_session(&path));
    let saved = h.state().to_session();
    assert!(saved.blobs.len() == 1, "the merge is stored in the session");
    let mut h2 = harness(CartoApp::new());
    assert!(h2.state_mut().open_session(&path));
    settle(&mut h2);
    assert!(
        h2.state().log.errors().next().is_none(),
        "{:?}",
        h2.state().log.lines
    );
    assert_eq!(h2.state().to_session(), saved);
    assert_eq!(energies_of(h2.state(), &mname).len(), n_rebinned);
    assert_eq!(
        chi_of(h2.state(), &mname),
        chi_of(h.state(), &mname),
        "the reopened merge processes the same"
    );
    for label in ["rebin 1 spectrum", "merge 2 spectra"] {
        assert_eq!(h2.state().history.undo_label(), Some(label));
        h2.state_mut().undo();
        h2.step();
    }
    assert!(h2.state().store.find(&mname).is_none(), "merge undone");
    h2.state_mut().undo();
    h2.step();
    assert_eq!(energies_of(h2.state(), b).len(), raw_b.len());
    assert!(
        (energies_of(h2.state(), b)[0] - (raw_b[0] - shift)).abs() < 1e-9,
        "alignment undone"
    );
    assert!(h2.state().history.undo.is_empty());
    assert_eq!(h2.state().history.redo.len(), 3);
}

/// The χ(q) data curve of `name`.
fn chiq_of(app: &CartoApp, name: &str) -> Vec<[f64; 2]> {
    app.plot_series(PlotTab::ChiQ)
        .into_iter()
        .find(|s| s.role == Role::Data && s.name == name)
        .map(|s| s.points)
        .unwrap_or_default()
}

/// Undo covers every view: an XRD phase's lattice scale and a fit-model
/// edit are steps of the one history (Ctrl+Z undoes the newest first), and
/// a saved session brings both back, undoable and redoable again.
/// A JCPDS card opened like any file joins the XRD view's phases: sticks
/// at its d-spacings by Bragg's law at the pattern's wavelength, moved by
/// the lattice handle like a CIF's, and kept in a session.
#[test]
fn jcpds_card_overlays_its_sticks_on_the_pattern() {
    let mut h = quartz_in_xrd_view();
    h.state_mut()
        .open_paths(&[common::data("xrd/jcpds/pt.jcpds")]);
    h.step();
    h.step();
    let app = h.state();
    assert_eq!(app.view, carto::gui::views::XRD);
    assert!(app.store.items.is_empty(), "a card is not a spectrum");
    assert_eq!(app.store.phases.len(), 1, "{:?}", app.log.lines);
    assert!(app.store.phases[0].is_card());
    assert_eq!(app.store.phases[0].name, "pt");
    let sticks = xrd_series(app, XrdRole::Sticks);
    assert_eq!(sticks.len(), 1, "{:?}", app.log.lines);
    assert_eq!(sticks[0].name, "pt");
    // Pt 111 (d = 2.2650 Å, the card's strongest line) at Cu Kα.
    let want = 2.0 * (1.54184_f64 / (2.0 * 2.2650)).asin().to_degrees();
    let top = strongest(&sticks[0].points);
    assert!((top[0] - want).abs() < 1e-9, "{top:?} vs {want}");
    // 200 at d = 1.9620 is there too, below 111.
    let t200 = 2.0 * (1.54184_f64 / (2.0 * 1.9620)).asin().to_degrees();
    assert!(
        sticks[0]
            .points
            .iter()
            .any(|q| (q[0] - t200).abs() < 1e-9 && q[1] < top[1])
    );
    set_slider(&mut h, "lattice", 1.01);
    let moved = strongest(&xrd_series(h.state(), XrdRole::Sticks)[0].points);
    let want = 2.0 * (1.54184_f64 / (2.0 * 2.2650 * 1.01)).asin().to_degrees();
    assert!((moved[0] - want).abs() < 1e-9, "{moved:?} vs {want}");
    // The session keeps it as a card.
    let s = h.state().to_session();
    let mut again = CartoApp::new();
    again.apply_session(&s);
    assert!(again.log.errors().next().is_none(), "{:?}", again.log.lines);
    assert!(
        again
            .store
            .phases
            .iter()
            .any(|p| p.is_card() && p.lattice == 1.01)
    );
    assert!(
        h.state().log.errors().next().is_none(),
        "{:?}",
        h.state().log.lines
    );
}

#[test]
fn undo_covers_xrd_phases_and_the_fit_model_across_a_session() {
    let dir = std::env::temp_dir().join(format!("carto-gui-undo-views-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut h = open_fit_model(&dir, "cu_1shell");
    h.state_mut().open_paths(&[
        common::data("xrd/quartz.xy"),
        common::data("cif/amcsd/quartz_amcsd11008.cif"),
    ]);
    settle(&mut h);
    assert_eq!(h.state().store.phases.len(), 1);
    let lattice = |h: &Harness<'_, CartoApp>| h.state().store.phases[0].lattice;
    let kmax = |h: &Harness<'_, CartoApp>| {
        h.state().store.fit.model.as_ref().expect("model").datasets[0]
            .transform
            .kmax
    };
    let kmax0 = kmax(&h);
    assert_ne!(kmax0, 16.0);

    // The phase and the fit model are tree items of the one selection,
    // with the pattern (Ctrl-click adds each).
    h.state_mut().view = carto::gui::views::SPECTRA;
    h.step();
    let (phase, formula) = {
        let ph = &h.state().store.phases[0];
        (ph.id, ph.formula.clone())
    };
    let model = h.state().store.fit.id;
    let pattern = h.state().store.find_pattern("quartz").expect("pattern");
    tree_entry(&h, "quartz").click();
    h.step();
    h.state_mut().view = carto::gui::views::SPECTRA;
    h.step();
    tree_entry(&h, &format!("quartz_amcsd11008 ({formula})"))
        .click_modifiers(egui::Modifiers::COMMAND);
    h.step();
    tree_entry(&h, "cu_1shell.toml").click_modifiers(egui::Modifiers::COMMAND);
    h.step();
    assert_eq!(h.state().view, carto::gui::views::SPECTRA);
    assert_eq!(
        h.state().selection.selected,
        [pattern, phase, model].into_iter().collect(),
        "a pattern, a phase and the fit model in the one selection"
    );
    // A plain click on the fit model opens the Fit view on it.
    tree_entry(&h, "cu_1shell.toml").click();
    h.step();
    assert_eq!(h.state().view, carto::gui::views::FIT);
    assert_eq!(h.state().selection.selected, [model].into_iter().collect());

    // The phase's lattice handle, then a field of the fit model.
    h.state_mut().store.phases[0].lattice = 1.02;
    h.step();
    assert_eq!(
        h.state().history.undo_label(),
        Some("lattice ×1 → 1.02 (quartz_amcsd11008)")
    );
    h.state_mut().view = carto::gui::views::FIT;
    h.step();
    set_number(&mut h, "transform kmax", 16.0);
    h.step();
    assert_eq!(kmax(&h), 16.0);
    assert_eq!(h.state().history.undo_label(), Some("edit fit model"));

    // Ctrl+Z undoes the fit-model edit, Ctrl+Z again the phase change.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.step();
    assert_eq!(kmax(&h), kmax0);
    assert_eq!(lattice(&h), 1.02);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.step();
    assert_eq!(lattice(&h), 1.0);
    assert_eq!(h.state().history.redo.len(), 2);
    // Redo both: the present is as edited.
    h.state_mut().redo();
    h.state_mut().redo();
    h.step();
    assert_eq!((lattice(&h), kmax(&h)), (1.02, 16.0));

    // A saved session restores both histories.
    let path = dir.join("views.carto");
    assert!(h.state_mut().save_session(&path));
    let mut h2 = harness(CartoApp::new());
    assert!(h2.state_mut().open_session(&path));
    step_until(&mut h2, "opening the session's model", |a| {
        !a.fit_panel().busy()
    });
    settle(&mut h2);
    assert!(
        h2.state().log.errors().next().is_none(),
        "{:?}",
        h2.state().log.lines
    );
    assert_eq!((lattice(&h2), kmax(&h2)), (1.02, 16.0));
    assert_eq!(h2.state().history.undo_label(), Some("edit fit model"));
    h2.state_mut().undo();
    h2.step();
    assert_eq!((lattice(&h2), kmax(&h2)), (1.02, kmax0));
    h2.state_mut().undo();
    h2.step();
    assert_eq!((lattice(&h2), kmax(&h2)), (1.0, kmax0));
    h2.state_mut().redo();
    h2.state_mut().redo();
    h2.step();
    assert_eq!((lattice(&h2), kmax(&h2)), (1.02, 16.0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fit result is an undo step too: undo puts back what was on show
/// before the fit (here, nothing), redo the result.
#[test]
fn a_fit_result_is_undone_and_redone() {
    let dir = std::env::temp_dir().join(format!("carto-gui-undo-fit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut h = open_fit_model(&dir, "cu_1shell");
    assert!(h.state().history.undo.is_empty(), "opening is not a step");
    let res = run_fit(&mut h);
    h.step();
    assert_eq!(h.state().history.undo_label(), Some("fit result"));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.step();
    assert!(h.state().store.fit.result.is_none());
    assert!(h.state().store.fit.report.is_empty());
    h.state_mut().redo();
    h.step();
    let back = h
        .state()
        .store
        .fit
        .result
        .as_ref()
        .expect("the result again");
    assert_eq!(back.stats.chi_square, res.stats.chi_square);
    assert!(!h.state().store.fit.stale);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Undo covers the candidate library and the quantification: reading a
/// library and quantifying are labelled steps of the one history, undone
/// and redone.
#[test]
fn undo_covers_the_candidate_library_and_the_quantification() {
    let mut h = quartz_with_the_amcsd_library();
    h.step();
    assert_eq!(h.state().history.undo_label(), Some("candidate library"));
    h.state_mut().undo();
    h.step();
    assert!(h.state().store.library.candidates.is_empty());
    assert_eq!(h.state().history.redo_label(), Some("candidate library"));
    h.state_mut().redo();
    h.step();
    assert_eq!(h.state().store.library.candidates.len(), 35);

    let mut h = quantified_mix2();
    h.step();
    h.step();
    let rows = h.state().store.quant.rows();
    assert!(!rows.is_empty(), "{:?}", h.state().log.lines);
    assert_eq!(h.state().history.undo_label(), Some("quantification"));
    h.state_mut().undo();
    h.step();
    assert!(h.state().store.quant.result.is_none());
    h.state_mut().redo();
    h.step();
    assert_eq!(h.state().store.quant.rows(), rows);
}

/// One selection for every kind: a spectrum and a powder pattern selected
/// together in the tree; each view shows the selected items of its kind.
#[test]
fn a_pattern_and_a_spectrum_are_selected_together() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/cu_metal_rt.xdi"),
        common::data("xrd/quartz.xy"),
    ]);
    app.view = carto::gui::views::SPECTRA;
    let mut h = harness(app);
    settle(&mut h);
    // A plain click on the spectrum selects it alone (the pattern too is
    // deselected: one selection)...
    tree_entry(&h, "cu_metal_rt.xdi").click();
    h.step();
    assert_eq!(n_plotted(h.state(), PlotTab::Mu), 1);
    assert!(xrd_series(h.state(), XrdRole::Pattern).is_empty());
    // ...a Ctrl-click on the pattern adds it, and the Spectra view stays.
    tree_entry(&h, "quartz").click_modifiers(egui::Modifiers::COMMAND);
    h.step();
    let app = h.state();
    assert_eq!(app.view, carto::gui::views::SPECTRA);
    let spectrum = app.store.find("cu_metal_rt.xdi").expect("spectrum");
    let pattern = app.store.find_pattern("quartz").expect("pattern");
    assert_ne!(spectrum, pattern, "one id space");
    assert_eq!(
        app.selection.selected,
        [spectrum, pattern].into_iter().collect(),
        "both in the one selection"
    );
    assert_eq!(n_plotted(app, PlotTab::Mu), 1, "the spectrum is plotted");
    let shown: Vec<String> = xrd_series(app, XrdRole::Pattern)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(shown, ["quartz"], "the XRD view shows the pattern");
    // The XRD view shows it, and the selection survives the switch.
    h.state_mut().view = carto::gui::views::XRD;
    h.step();
    assert_eq!(xrd_series(h.state(), XrdRole::Pattern).len(), 1);
    assert_eq!(h.state().selection.selected.len(), 2);
    h.state_mut().view = carto::gui::views::SPECTRA;
    h.step();
    assert_eq!(n_plotted(h.state(), PlotTab::Mu), 1);
}

/// A CIF phase is a tree item in the one selection: a plain click selects
/// it and opens the XRD view, where its name shows selected; Delete in the
/// tree removes it and Ctrl+Z brings it back under the same id.
#[test]
fn a_phase_selected_in_the_tree_is_selected_in_the_xrd_view_and_removal_undoes() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xrd/quartz.xy"),
        common::data("cif/amcsd/quartz_amcsd11008.cif"),
    ]);
    app.view = carto::gui::views::SPECTRA;
    app.reset_history();
    let mut h = harness(app);
    settle(&mut h);
    let (phase, formula) = {
        let ph = &h.state().store.phases[0];
        (ph.id, ph.formula.clone())
    };
    let pattern = h.state().store.find_pattern("quartz").expect("pattern");
    assert_ne!(phase, pattern, "one id space");
    tree_entry(&h, &format!("quartz_amcsd11008 ({formula})")).click();
    h.step();
    h.step();
    let app = h.state();
    assert_eq!(app.view, carto::gui::views::XRD);
    assert_eq!(app.selection.selected, [phase].into_iter().collect());
    assert_eq!(app.selection.active, Some(phase));
    // The XRD view shows the phase's name selected.
    let name = h.get_by_label("quartz_amcsd11008");
    let toggled = name.accesskit_node().toggled();
    assert_eq!(toggled, Some(egui::accesskit::Toggled::True));

    // Back in the tree, Delete removes the selected phase: an undo step.
    h.state_mut().view = carto::gui::views::SPECTRA;
    h.step();
    h.key_press(egui::Key::Delete);
    h.step();
    h.step();
    assert!(
        h.state().store.phases.is_empty(),
        "{:?}",
        h.state().log.lines
    );
    assert!(h.state().selection.selected.is_empty());
    assert_eq!(h.state().store.patterns.len(), 1, "the pattern stays");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.step();
    let phases = &h.state().store.phases;
    assert_eq!(phases.len(), 1);
    assert_eq!(phases[0].id, phase, "the same phase, the same id");
    assert_eq!(phases[0].name, "quartz_amcsd11008");
}

/// χ(q) is a back-transform on the UI thread: it runs once per spectrum
/// when its result or the R window changes, never on idle frames.
#[test]
fn chi_q_is_computed_once_per_change_not_per_frame() {
    let mut h = harness(CartoApp::demo());
    settle(&mut h);
    h.get_by_label("χ(q)").click();
    h.step();
    let st = h.state();
    let n_selected = st.store.selected_spectra(&st.selection).len();
    assert_eq!(n_selected, 2, "the demo selects two spectra");
    let computed = |h: &Harness<'_, CartoApp>| h.state().store.chiq.computed();
    let first = computed(&h);
    assert_eq!(first, n_selected, "one back-transform per spectrum on show");
    for _ in 0..10 {
        h.step();
    }
    assert_eq!(computed(&h), first, "idle frames compute nothing");
    // The χ(R) tab draws the same R window: nothing new either.
    h.state_mut().plots.tab = PlotTab::ChiR;
    for _ in 0..3 {
        h.step();
    }
    assert_eq!(computed(&h), first);
    h.state_mut().plots.tab = PlotTab::ChiQ;
    set_number(&mut h, "rmax", 2.5);
    for _ in 0..5 {
        h.step();
    }
    assert_eq!(h.state().plots.options.xftr.rmax, 2.5);
    assert_eq!(
        computed(&h),
        first + n_selected,
        "one more per spectrum after the R-window change"
    );
}

#[test]
fn chi_q_tab_back_transforms_and_follows_the_r_window() {
    let mut h = harness(CartoApp::demo());
    settle(&mut h);
    h.get_by_label("χ(q)").click();
    h.step();
    assert_eq!(h.state().plots.tab, PlotTab::ChiQ);
    let before = chiq_of(h.state(), "feo_rt1.xdi");
    assert!(
        before.len() > 100,
        "χ(q) of FeO has {} points",
        before.len()
    );
    assert!(
        before.iter().any(|p| p[1].abs() > 1e-3),
        "χ(q) is not all zero"
    );
    // q runs over the χ(k) range (Larch plot_chiq).
    let kmax = {
        let app = h.state();
        let id = app.store.find("feo_rt1.xdi").expect("feo");
        let r = app
            .store
            .item(id)
            .and_then(|i| i.spectrum())
            .and_then(|s| s.result.as_ref())
            .expect("processed");
        *r.k_inv_ang.last().expect("k")
    };
    assert!(before.last().expect("points")[0] <= kmax + 1e-9);
    // Narrow the R window to the first shell in the tab's option bar.
    set_number(&mut h, "rmin", 1.0);
    set_number(&mut h, "rmax", 2.0);
    h.step();
    assert_eq!(h.state().plots.options.xftr.rmax, 2.0);
    let after = chiq_of(h.state(), "feo_rt1.xdi");
    assert_eq!(after.len(), before.len());
    let diff = before
        .iter()
        .zip(&after)
        .map(|(a, b)| (a[1] - b[1]).abs())
        .fold(0.0, f64::max);
    assert!(
        diff > 1e-3,
        "χ(q) did not change with rmax (max |Δ| = {diff})"
    );
    // kⁿ·χ(k) for comparison, and the window on the χ(R) tab.
    h.get_by_label("k-weighted χ(k)").click();
    h.step();
    let roles: Vec<Role> = h
        .state()
        .plot_series(PlotTab::ChiQ)
        .iter()
        .map(|s| s.role)
        .collect();
    assert_eq!(roles.iter().filter(|r| **r == Role::ChiK).count(), 2);
    let w: Vec<_> = h
        .state()
        .plot_series(PlotTab::ChiR)
        .into_iter()
        .filter(|s| s.role == Role::RWindow)
        .collect();
    assert_eq!(w.len(), 2, "one R window per spectrum");
    let inside = |r: f64| {
        w[0].points
            .iter()
            .min_by(|a, b| (a[0] - r).abs().total_cmp(&(b[0] - r).abs()))
            .map_or(0.0, |p| p[1])
    };
    assert!(inside(1.5) > 0.0 && inside(6.0) == 0.0, "window over 1–2 Å");
    // The session keeps the R window; the SVG export draws χ(q).
    let s = h.state().to_session();
    assert_eq!(
        (s.view.tab.as_str(), s.view.xftr.rmin, s.view.xftr.rmax),
        ("chi-q", 1.0, 2.0)
    );
    let mut h2 = harness(CartoApp::new());
    h2.state_mut().apply_session(&s);
    assert_eq!(h2.state().plots.options.xftr, h.state().plots.options.xftr);
    assert!(h2.state().plots.options.chik_in_q);
    let dir = std::env::temp_dir().join(format!("carto-chiq-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("chiq.svg");
    assert!(h.state_mut().export_svg(&path));
    let svg = std::fs::read_to_string(&path).expect("svg");
    assert!(
        svg.contains("q (Å⁻¹)") && svg.contains("Re χ(q) (Å⁻²)"),
        "axes"
    );
    assert_eq!(svg.matches("<polyline").count(), 4, "two χ(q), two kⁿ·χ(k)");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The μ(E) input of the active spectrum: (recipe, μ, table columns).
fn active_mu(app: &CartoApp) -> (carto::io::MuRecipe, Vec<f64>, Vec<Vec<f64>>) {
    let id = app.selection.active.expect("active");
    let s = app
        .store
        .item(id)
        .and_then(|i| i.spectrum())
        .expect("spectrum");
    match &*s.input {
        carto::gui::workspace::Input::Mu(x) => {
            (x.recipe.clone(), x.mu.clone(), x.table.columns.clone())
        }
        carto::gui::workspace::Input::Chi(_) => panic!("a μ(E) spectrum"),
    }
}

#[test]
fn mu_recipe_is_picked_in_the_panel_and_kept_in_the_session() {
    use carto::io::{MuMode, MuRecipe};
    let mut app = CartoApp::new();
    app.open_paths(&[common::data("xas/beamlines/APS20BM_2001.dat")]);
    let mut h = harness(app);
    settle(&mut h);
    let (auto, mu_auto, cols) = active_mu(h.state());
    // Mono_Energy, Scaler_preset_time, I0, I1, If
    assert_eq!(auto, MuRecipe::Transmission { i0: 2, it: 3 });
    let chi_before = chi_of(h.state(), "APS20BM_2001.dat");

    // A combo's popup shows a frame after the click.
    h.get_by_label("mode").click();
    h.step();
    h.step();
    h.get_by_label("fluorescence ΣIf/I0").click();
    h.step();
    h.step();
    let (r, mu, _) = active_mu(h.state());
    assert_eq!(
        r,
        MuRecipe::Fluorescence {
            i_f: vec![4],
            i0: 2
        }
    );
    for (j, m) in mu.iter().enumerate() {
        assert!((m - cols[4][j] / cols[2][j]).abs() < 1e-12, "row {j}");
    }
    assert_ne!(mu, mu_auto);
    {
        let app = h.state();
        let id = app.selection.active.expect("active");
        let item = app.store.item(id).expect("item");
        assert_eq!(item.mu, Some(MuMode::Fluorescence));
        assert!(
            !item.spectrum().expect("s").needs_processing(),
            "reprocessed at once"
        );
    }
    assert_ne!(chi_of(h.state(), "APS20BM_2001.dat"), chi_before);

    // Another denominator: If / I1.
    h.get_by_label("I0 (denominator)").click();
    h.step();
    h.step();
    h.get_by_label("I1").click();
    h.step();
    h.step();
    let (r, mu, _) = active_mu(h.state());
    assert_eq!(
        r,
        MuRecipe::Fluorescence {
            i_f: vec![4],
            i0: 3
        }
    );
    assert!((mu[10] - cols[4][10] / cols[3][10]).abs() < 1e-12);
    assert!(
        h.state().log.errors().next().is_none(),
        "{:?}",
        h.state().log.lines
    );

    // The session records the columns; reopening builds the same μ(E).
    let saved = h.state().to_session();
    assert_eq!(saved.items[0].mu, Some(MuMode::Fluorescence));
    assert_eq!(saved.items[0].mu_recipe, Some(r.clone()));
    let dir = std::env::temp_dir().join(format!("carto-mu-recipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("mu.carto");
    assert!(h.state_mut().save_session(&path));
    let mut h2 = harness(CartoApp::new());
    assert!(h2.state_mut().open_session(&path));
    settle(&mut h2);
    assert_eq!(h2.state().to_session(), saved);
    assert_eq!(active_mu(h2.state()).1, mu);
    assert!(
        h2.state().log.errors().next().is_none(),
        "{:?}",
        h2.state().log.lines
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A double click at `pos`, all in one frame (the harness runs each queued
/// event in a frame of its own, 0.25 s apart: too slow for a double click).
fn double_click(h: &mut Harness<'_, CartoApp>, pos: egui::Pos2) {
    let events = &mut h.input_mut().events;
    events.push(egui::Event::PointerMoved(pos));
    for pressed in [true, false, true, false] {
        events.push(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    h.step();
}

#[test]
fn tree_items_are_renamed_in_place_and_keep_their_name_in_a_session() {
    let mut h = harness(CartoApp::demo());
    settle(&mut h);
    let feo = h.state().store.find("feo_rt1.xdi").expect("feo");
    // Right-click ▸ Rename, type, Enter.
    tree_entry(&h, "feo_rt1.xdi").click_secondary();
    h.step();
    h.step();
    h.get_by_label("Rename").click();
    h.step();
    h.step();
    let field = h.get_by_role(egui::accesskit::Role::TextInput);
    assert_eq!(field.value().as_deref(), Some("feo_rt1.xdi"));
    field.set_text_value_accesskit("FeO rt");
    h.step();
    h.key_press(egui::Key::Enter);
    h.step();
    h.step();
    let name = |h: &Harness<'_, CartoApp>| {
        h.state()
            .store
            .item(feo)
            .map(|i| i.name.clone())
            .unwrap_or_default()
    };
    assert_eq!(name(&h), "FeO rt");
    assert!(h.state().tree.renaming.is_none(), "the field closed");
    // The plots use the new name.
    assert!(
        h.state()
            .plot_series(PlotTab::Mu)
            .iter()
            .any(|s| s.role == Role::Data && s.name == "FeO rt")
    );

    // Double-click opens the field; an empty name is refused.
    let pos = tree_entry(&h, "FeO rt").rect().center();
    double_click(&mut h, pos);
    h.step();
    assert_eq!(
        h.state().tree.renaming.as_ref().map(|r| r.0),
        Some(feo),
        "double-click edits the name"
    );
    h.get_by_role(egui::accesskit::Role::TextInput)
        .set_text_value_accesskit("   ");
    h.step();
    h.key_press(egui::Key::Enter);
    h.step();
    h.step();
    assert_eq!(name(&h), "FeO rt", "empty name refused");
    assert!(
        h.state()
            .log
            .lines
            .iter()
            .any(|l| l.text.contains("cannot be empty")),
        "{:?}",
        h.state().log.lines
    );
    // Escape cancels an edit.
    assert!(
        h.state().tree.renaming.is_some(),
        "still editing after a refusal"
    );
    h.step();
    h.get_by_role(egui::accesskit::Role::TextInput)
        .set_text_value_accesskit("never");
    h.step();
    h.key_press(egui::Key::Escape);
    h.step();
    h.step();
    assert_eq!(name(&h), "FeO rt");
    assert!(h.state().tree.renaming.is_none());

    // The name survives a session round trip.
    let s = h.state().to_session();
    let mut h2 = harness(CartoApp::new());
    h2.state_mut().apply_session(&s);
    settle(&mut h2);
    assert!(h2.state().store.find("FeO rt").is_some());
    assert_eq!(h2.state().to_session(), s);

    // Right-click ▸ Remove on an item outside the selection removes it alone.
    let n = h.state().store.items.len();
    tree_entry(&h, "cu_metal_rt.xdi").click_secondary();
    h.step();
    h.step();
    // The menu's entry, not the Remove button above the tree.
    let menu_remove = h.get_all_by_label("Remove").last().expect("menu entry");
    menu_remove.click();
    h.step();
    assert_eq!(h.state().store.items.len(), n - 1);
    assert!(h.state().store.find("cu_metal_rt.xdi").is_none());
    assert!(h.state().store.find("FeO rt").is_some());
}

#[test]
fn opened_files_and_sessions_are_listed_under_open_recent() {
    use carto::gui::recent::{RecentFiles, RecentKind};
    let dir = std::env::temp_dir().join(format!("carto-gui-recent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let state = dir.join("state");
    let mut app = CartoApp::new();
    app.state_dir = Some(state.clone());
    let mut h = harness(app);
    h.step();
    let cu = common::data("xas/xdi/cu_metal_rt.xdi");
    h.input_mut().dropped_files = vec![std::sync::Arc::new(Dropped(cu.clone()))];
    settle(&mut h);
    let top = |h: &Harness<'_, CartoApp>| h.state().recent.entries.first().cloned();
    let e = top(&h).expect("an entry");
    assert_eq!((e.path.as_path(), e.kind), (cu.as_path(), RecentKind::Data));
    // Saved beside the autosave file at once.
    assert_eq!(RecentFiles::load(&state).0, h.state().recent);

    // A saved session heads the list; a file that is gone shows as missing.
    let session = dir.join("a.carto");
    assert!(h.state_mut().save_session(&session));
    assert_eq!(top(&h).map(|e| e.kind), Some(RecentKind::Session));
    h.state_mut()
        .note_recent(&dir.join("gone.xdi"), RecentKind::Data);
    h.state_mut().recent.push(cu.clone(), RecentKind::Data);
    let paths: Vec<_> = h
        .state()
        .recent
        .entries
        .iter()
        .map(|e| e.path.clone())
        .collect();
    assert_eq!(paths, [cu.clone(), dir.join("gone.xdi"), session.clone()]);

    // File ▸ Open recent ▸ cu_metal_rt.xdi opens it again.
    let n = h.state().store.items.len();
    h.get_by_label("File").click();
    h.step();
    h.step();
    h.get_by_label("Open recent").click();
    h.step();
    h.step();
    assert!(
        h.get_by_label("gone.xdi  (missing)")
            .accesskit_node()
            .is_disabled(),
        "a missing file is listed, disabled"
    );
    // The menu's entry: a plain button (the tree's entry is a selectable
    // one, the legend's a checkbox).
    let entry = h
        .get_all_by_label("cu_metal_rt.xdi")
        .find(|n| {
            let a = n.accesskit_node();
            a.role() == egui::accesskit::Role::Button && a.toggled().is_none()
        })
        .expect("menu entry");
    entry.click();
    settle(&mut h);
    assert_eq!(h.state().store.items.len(), n + 1);
    assert!(
        h.state().log.errors().next().is_none(),
        "{:?}",
        h.state().log.lines
    );
    // Choosing a file that has gone meanwhile is a log error, no panic.
    let gone = h.state().recent.entries[1].clone();
    let ctx = h.ctx.clone();
    h.state_mut().open_recent(&gone, &ctx);
    assert!(
        h.state()
            .log
            .errors()
            .any(|l| l.contains("gone.xdi") && l.contains("no longer exists"))
    );

    // The next run reads the list back; without a state folder it stays
    // in memory only.
    let mut next = CartoApp::new();
    next.state_dir = Some(state.clone());
    next.load_recent();
    assert_eq!(next.recent, h.state().recent);
    let mut mem = CartoApp::new();
    mem.open_paths(std::slice::from_ref(&cu));
    assert_eq!(mem.recent.entries.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The active spectrum's e0 as used (eV) and as set (None: found by Larch's rule).
fn active_e0(app: &CartoApp) -> (f64, Option<f64>) {
    let id = app.selection.active.expect("active");
    let s = app
        .store
        .item(id)
        .and_then(|i| i.spectrum())
        .expect("spectrum");
    let used = s
        .result
        .as_ref()
        .and_then(|r| r.pre.as_ref())
        .map(|p| p.e0)
        .expect("processed");
    (used, s.params.pre_edge.e0)
}

#[test]
fn dragging_the_e0_marker_sets_e0_and_does_not_pan() {
    let mut h = harness(CartoApp::demo());
    settle(&mut h);
    for tab in [PlotTab::Mu, PlotTab::Norm] {
        h.state_mut().plots.tab = tab;
        h.step();
        h.step();
        let (e0, set) = active_e0(h.state());
        let t = h.state().plots.transform().expect("a plot");
        let bounds = *t.bounds();
        let y = t.frame().center().y;
        // Grab 4 points beside the marker, drag 60 points to the right.
        let start = egui::pos2(t.position_from_point_x(e0) + 4.0, y);
        let end = start + egui::vec2(60.0, 0.0);
        let want = t.value_from_position(end).x - (t.value_from_position(start).x - e0);
        h.hover_at(start);
        h.drag_at(start);
        h.step();
        assert!(h.state().plots.dragging_e0(), "{tab:?}: marker grabbed");
        for i in 1..=6 {
            h.hover_at(start + egui::vec2(10.0 * i as f32, 0.0));
            h.step();
        }
        h.drop_at(end);
        h.step();
        h.step();
        assert!(!h.state().plots.dragging_e0());
        let (e0_after, set_after) = active_e0(h.state());
        let fixed = set_after.expect("e0 fixed by the drag");
        // e0 goes where the pointer is (grabbed 4 points off the line).
        let ev_per_pt = (t.value_from_position(end).x - t.value_from_position(start).x) / 60.0;
        assert!(
            (fixed - t.value_from_position(end).x).abs() < ev_per_pt,
            "{tab:?}: e0 {fixed} vs pointer at {} (from {e0}, wanted ≈ {want})",
            t.value_from_position(end).x
        );
        assert!(fixed - e0 > 30.0 * ev_per_pt, "{tab:?}: e0 moved right");
        assert_eq!(e0_after, fixed, "{tab:?}: recomputed with the new e0");
        assert_ne!(set, set_after);
        // The view did not pan.
        let after = h.state().plots.transform().expect("a plot");
        assert_eq!(
            after.bounds().range_x(),
            bounds.range_x(),
            "{tab:?}: no pan"
        );
    }
    // A press away from the marker pans as before and leaves e0 alone.
    let (_, set) = active_e0(h.state());
    let t = h.state().plots.transform().expect("a plot");
    let e0 = active_e0(h.state()).0;
    let p = egui::pos2(t.position_from_point_x(e0) + 150.0, t.frame().center().y);
    h.hover_at(p);
    h.drag_at(p);
    h.step();
    for i in 1..=4 {
        h.hover_at(p + egui::vec2(15.0 * i as f32, 0.0));
        h.step();
    }
    h.drop_at(p + egui::vec2(60.0, 0.0));
    h.step();
    assert_eq!(active_e0(h.state()).1, set, "e0 unchanged");
    let after = h.state().plots.transform().expect("a plot");
    assert_ne!(
        after.bounds().range_x(),
        t.bounds().range_x(),
        "the view panned"
    );
}

/// The screenshot requests of the last frame (egui_kittest fulfils them only
/// with a renderer; here the test plays the renderer).
fn screenshot_requests(h: &Harness<'_, CartoApp>) -> Vec<egui::ScreenshotCallback> {
    h.output()
        .viewport_output
        .values()
        .flat_map(|v| v.commands.iter())
        .filter_map(|c| match c {
            egui::ViewportCommand::Screenshot(cb) => Some(cb.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn plot_exports_as_png_cropped_to_the_plot_area() {
    let mut h = harness(CartoApp::demo());
    settle(&mut h);
    let dir = std::env::temp_dir().join(format!("carto-png-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("plot.png");
    h.state_mut().export_png(path.clone());
    h.step();
    let requests = screenshot_requests(&h);
    assert_eq!(requests.len(), 1, "one screenshot asked for");
    // The "window": blue, the plot area red, its top-left pixel green.
    let rect = h.state().plots.plot_rect().expect("a plot");
    let ppp = h.ctx.pixels_per_point();
    let (w, hgt) = ((1400.0 * ppp) as usize, (900.0 * ppp) as usize);
    let mut image = egui::ColorImage::new([w, hgt], vec![egui::Color32::BLUE; w * hgt]);
    let (x0, y0) = (
        (rect.min.x * ppp).round() as usize,
        (rect.min.y * ppp).round() as usize,
    );
    let (x1, y1) = (
        (rect.max.x * ppp).round() as usize,
        (rect.max.y * ppp).round() as usize,
    );
    for y in y0..y1 {
        for x in x0..x1 {
            image.pixels[y * w + x] = egui::Color32::RED;
        }
    }
    image.pixels[y0 * w + x0] = egui::Color32::GREEN;
    for r in requests {
        r.complete(std::sync::Arc::new(image.clone()));
    }
    h.step();
    assert!(h.state().png_export.is_none(), "done");
    assert!(
        h.state().log.errors().next().is_none(),
        "{:?}",
        h.state().log.lines
    );
    let bytes = std::fs::read(&path).expect("the PNG was written");
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(
        (info.width as usize, info.height as usize),
        (x1 - x0, y1 - y0),
        "exactly the plot area"
    );
    let px = |x: usize, y: usize| buf[(y * info.width as usize + x) * 4..][..4].to_vec();
    assert_eq!(px(0, 0), [0, 255, 0, 255], "starts at the plot's corner");
    assert_eq!(px(1, 0), [255, 0, 0, 255]);
    assert_eq!(
        px(x1 - x0 - 1, y1 - y0 - 1),
        [255, 0, 0, 255],
        "no window beyond it"
    );

    // No screenshot ever comes (headless): a readable error after the timeout.
    let never = dir.join("never.png");
    h.state_mut().export_png(never.clone());
    h.step();
    assert_eq!(screenshot_requests(&h).len(), 1);
    h.step();
    assert!(h.state().png_export.is_some(), "still waiting");
    if let Some(job) = &mut h.state_mut().png_export {
        job.started -= carto::gui::export::PNG_EXPORT_TIMEOUT + Duration::from_secs(1);
    }
    h.step();
    assert!(h.state().png_export.is_none(), "gave up");
    assert!(!never.exists());
    assert!(
        h.state()
            .log
            .errors()
            .any(|e| e.contains("no screenshot") && e.contains("never.png")),
        "{:?}",
        h.state().log.lines
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A session whose edit journal cannot be replayed (hand-edited, or a file
/// that changed under it) loads everything else and says which item and
/// which step failed; a history step pointing past its items is refused
/// with a readable error, not a panic.
#[test]
fn a_bad_edit_journal_or_history_in_a_session_is_a_readable_error() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/cu_metal_rt.xdi"),
        common::data("xas/columns/cu_rt01.xmu"),
    ]);
    let mut s = app.to_session();
    s.items[0].edits = vec![carto::xas::edit::Edit::Deglitch(
        carto::xas::deglitch::DeglitchParams {
            remove: vec![carto::xas::deglitch::PointSelection::Index { index: 99_999 }],
            replace: false,
        },
    )];
    let mut again = CartoApp::new();
    again.apply_session(&s);
    assert_eq!(again.store.items.len(), 1, "the other item loads");
    let errors: Vec<&str> = again.log.errors().collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("cu_metal_rt.xdi") && e.contains("step 1")),
        "{errors:?}"
    );

    let mut s = app.to_session();
    s.history = Some(carto::session::HistorySession {
        states: Vec::new(),
        undo: vec![carto::session::HistoryStep {
            label: "broken".into(),
            items: vec![3],
            selected: Vec::new(),
            active: None,
            phases: None,
            fit_model: None,
        }],
        redo: Vec::new(),
    });
    let err = carto::session::Session::from_json(&s.to_json(), std::path::Path::new("x.carto"))
        .expect_err("refused");
    assert!(err.to_string().contains("history step 'broken'"), "{err}");
}

/// Align and rebin run on a worker thread with Cancel: a cancelled batch
/// changes nothing and says so.
#[test]
fn a_cancelled_rebin_changes_nothing() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/cu_metal_rt.xdi"),
        common::data("xas/columns/cu_rt01.xmu"),
    ]);
    app.reset_history();
    let mut h = harness(app);
    settle(&mut h);
    let ids: Vec<u64> = h.state().store.items.iter().map(|i| i.id).collect();
    h.state_mut().selection.select_only(&ids);
    let before = energies_of(h.state(), "cu_rt01.xmu");
    assert_eq!(h.state_mut().rebin_selected(None), 2);
    assert!(h.state().busy());
    h.state().edit_job.as_ref().expect("running").cancel();
    settle(&mut h);
    assert_eq!(energies_of(h.state(), "cu_rt01.xmu"), before);
    assert!(
        h.state()
            .log
            .lines
            .iter()
            .any(|l| l.text.contains("align/rebin cancelled")),
        "{:?}",
        h.state().log.lines
    );
    assert!(h.state().history.undo.is_empty(), "nothing to undo");
}

/// A plot legend entry (a checkbox: a plain click hides the curve).
fn legend_entry<'a>(h: &'a Harness<'_, CartoApp>, name: &'a str) -> egui_kittest::Node<'a> {
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, name)
}

#[test]
fn a_right_click_on_a_legend_entry_selects_everywhere() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/feo_rt1.xdi"),
        common::data("xas/columns/fe2o3_rt1.xmu"),
        common::data("xas/xdi/cu_metal_rt.xdi"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    let id = |h: &Harness<'_, CartoApp>, name: &str| h.state().store.find(name).expect(name);
    let (feo, fe2o3) = (id(&h, "feo_rt1.xdi"), id(&h, "fe2o3_rt1.xmu"));
    let select_both = |h: &mut Harness<'_, CartoApp>| {
        tree_entry(h, "feo_rt1.xdi").click();
        h.step();
        tree_entry(h, "fe2o3_rt1.xmu").click_modifiers(egui::Modifiers::COMMAND);
        h.step();
        h.step();
        assert_eq!(h.state().selection.selected.len(), 2);
    };

    // A plain left click on the legend hides the curve, as in egui_plot;
    // the selection stays.
    select_both(&mut h);
    legend_entry(&h, "fe2o3_rt1.xmu").click();
    h.step();
    assert_eq!(h.state().selection.selected.len(), 2);
    legend_entry(&h, "fe2o3_rt1.xmu").click();
    h.step();

    // A right click selects that spectrum only, and makes it active.
    legend_entry(&h, "fe2o3_rt1.xmu").click_secondary();
    h.step();
    h.step();
    let sel = &h.state().selection;
    assert_eq!(sel.selected.iter().copied().collect::<Vec<_>>(), [fe2o3]);
    assert_eq!(sel.active, Some(fe2o3));
    assert_eq!(n_plotted(h.state(), PlotTab::Mu), 1);

    // Ctrl+right click takes one out of the selection.
    select_both(&mut h);
    legend_entry(&h, "feo_rt1.xdi")
        .click_button_modifiers(egui::PointerButton::Secondary, egui::Modifiers::COMMAND);
    h.step();
    h.step();
    let sel = &h.state().selection;
    assert_eq!(sel.selected.iter().copied().collect::<Vec<_>>(), [fe2o3]);
    assert!(!sel.selected.contains(&feo));
}

#[test]
fn a_right_click_on_a_phase_in_the_xrd_legend_selects_the_phase() {
    let mut h = quartz_in_xrd_view();
    {
        let app = &mut h.state_mut().state;
        app.store.add_cifs(
            &[common::data("cif/amcsd/quartz_amcsd11008.cif")],
            &mut app.log,
        );
    }
    h.step();
    h.step();
    let pattern = h.state().store.patterns[0].id;
    let phase = h.state().store.phases[0].id;
    assert!(!h.state().selection.selected.contains(&phase));
    legend_entry(&h, "quartz_amcsd11008").click_secondary();
    h.step();
    h.step();
    // The phase joins the one selection (the tree shows it selected); the
    // pattern its sticks are drawn on stays selected.
    let sel = &h.state().selection;
    assert!(sel.selected.contains(&phase), "{sel:?}");
    assert!(sel.selected.contains(&pattern), "{sel:?}");
    assert_eq!(sel.active, Some(phase));
    assert_eq!(xrd_series(h.state(), XrdRole::Sticks).len(), 1);

    // Ctrl+right click on the pattern's entry takes it out.
    legend_entry(&h, "quartz")
        .click_button_modifiers(egui::PointerButton::Secondary, egui::Modifiers::COMMAND);
    h.step();
    h.step();
    let sel = &h.state().selection;
    assert!(!sel.selected.contains(&pattern), "{sel:?}");
    assert!(sel.selected.contains(&phase), "{sel:?}");
}

/// The values of a Float64 column of a feature table, nulls as NaN.
fn f64_column(df: &polars::prelude::DataFrame, name: &str) -> Vec<f64> {
    df.column(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .f64()
        .expect("a Float64 column")
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn export_features_previews_the_selection_and_writes_what_batch_writes() {
    let mut app = CartoApp::new();
    let files = [
        common::data("xas/xdi/feo_rt1.xdi"),
        common::data("xas/columns/fe2o3_rt1.xmu"),
        common::data("xas/xdi/cu_metal_rt.xdi"),
    ];
    app.open_paths(&files);
    app.open_paths(&[common::data("xrd/quartz.xy")]);
    let mut h = harness(app);
    settle(&mut h);
    h.state_mut().state.view = carto::gui::views::SPECTRA;
    h.step();
    tree_entry(&h, "feo_rt1.xdi").click();
    h.step();
    tree_entry(&h, "fe2o3_rt1.xmu").click_modifiers(egui::Modifiers::COMMAND);
    h.step();

    // File ▸ Export features… opens the preview of the two selected.
    h.get_by_label("File").click();
    h.step();
    h.step();
    h.get_by_label("Export features…").click();
    h.step();
    h.step();
    assert!(h.state().features.open);
    let df = match h.state().features.preview() {
        Some(Ok(df)) => df.clone(),
        other => panic!("no preview: {other:?}"),
    };
    assert_eq!(df.height(), 2);
    let e0 = f64_column(&df, "e0_ev");
    let want: Vec<f64> = ["feo_rt1.xdi", "fe2o3_rt1.xmu"]
        .iter()
        .map(|n| {
            let id = h.state().store.find(n).expect(n);
            let s = h
                .state()
                .store
                .item(id)
                .and_then(|i| i.spectrum())
                .expect(n);
            s.result
                .as_ref()
                .and_then(|r| r.pre.as_ref())
                .expect("pre_edge")
                .e0
        })
        .collect();
    assert_eq!(e0, want);
    // Empty columns are hidden in the preview (no fit, no LCF, no XRD).
    assert!(df.column("lcf_rfactor").is_err());
    assert!(df.column("white_line_energy_ev").is_ok());

    // The whole store: three spectra and the pattern.
    h.get_by_label("whole store").click();
    h.step();
    h.step();
    let Some(Ok(all)) = h.state().features.preview() else {
        panic!("no preview");
    };
    let modality: Vec<String> = all
        .column("modality")
        .expect("modality")
        .str()
        .expect("str")
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect();
    assert_eq!(modality, ["xas", "xas", "xas", "xrd"]);

    // Written as CSV and Parquet, the file reads back as the same frame;
    // each spectrum's row has the numbers `carto batch` gives the file.
    let dir = std::env::temp_dir().join(format!("carto-gui-features-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let store_rows = carto::gui::features::store_rows(&h.state().store, None);
    let table = carto::features::table(&store_rows).expect("table");
    for ext in ["csv", "parquet"] {
        let path = dir.join(format!("features.{ext}"));
        let st = &mut h.state_mut().state;
        let (store, sel, log) = (&st.store, &st.selection.selected, &mut st.log);
        let mut whole = carto::gui::features::FeaturesWindow::default();
        whole.whole_store = true;
        whole.save(store, sel, &path, log);
        let back = carto::features::read_table(&path).expect("read back");
        assert_eq!(back.shape(), table.shape(), "{ext}");
        for col in ["e0_ev", "edge_step", "kmax_inv_ang", "chir_max_r_ang"] {
            assert_eq!(
                f64_column(&back, col)[..3],
                f64_column(&table, col)[..3],
                "{ext} {col}"
            );
        }
    }
    let config = carto::features::batch::BatchConfig::default();
    let params = config.chain_params();
    for (i, f) in files.iter().enumerate() {
        let batch = carto::features::batch::rows_of_file(0, f, &config, &params);
        let gui = &store_rows[i];
        assert_eq!(batch[0].e0_ev, gui.e0_ev, "{f:?}");
        assert_eq!(batch[0].edge_step, gui.edge_step, "{f:?}");
        assert_eq!(batch[0].chir_max_r_ang, gui.chir_max_r_ang, "{f:?}");
        assert_eq!(
            batch[0].white_line_energy_ev, gui.white_line_energy_ev,
            "{f:?}"
        );
    }
    let xrd = &store_rows[3];
    assert_eq!(xrd.modality.as_deref(), Some("xrd"));
    assert!(xrd.n_points.is_some_and(|n| n > 1000), "{xrd:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn xanes_view_fits_the_selection_as_larch_lincombo_fitall() {
    let fx = common::json_fixture("xanes/larch_xanes.json");
    let case = &fx["lcf_all"][0];
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("athena/CuHERFD_standards.prj"),
        common::data("athena/CuHERFD_samples.prj"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    h.state_mut().state.view = carto::gui::views::XANES;
    h.step();
    let by_group = |h: &Harness<'_, CartoApp>, g: &str| {
        let it = (h.state().store.items.iter())
            .find(|i| i.group.as_deref() == Some(g))
            .unwrap_or_else(|| panic!("no group {g}"));
        (it.id, it.name.clone())
    };
    let stds: Vec<String> = (case["standards"].as_array().expect("standards").iter())
        .map(|v| v.as_str().expect("name").to_string())
        .collect();
    for g in &stds {
        let (_, name) = by_group(&h, g);
        // (The list scrolls: accesskit reaches entries out of view.)
        h.get_by_role_and_label(egui::accesskit::Role::CheckBox, &name)
            .click_accesskit();
        h.step();
    }
    let (sample, _) = by_group(&h, case["sample"].as_str().expect("sample"));
    h.state_mut().state.selection.select_only(&[sample]);
    h.step();
    // Larch's range: e0 − 20 … e0 + 60 eV.
    set_number(&mut h, "to", 60.0);
    h.get_by_label("Fit selection (1 spectra)").click();
    step_until(&mut h, "the LCF", |a| {
        a.store.xanes.lcf.contains_key(&sample)
    });
    let entry = &h.state().store.xanes.lcf[&sample];
    // 6 standards, ≤ 3 at a time: the combinations Larch keeps, best first.
    let n_larch = case["ranked"].as_array().expect("ranked").len();
    assert_eq!(entry.fits.len(), n_larch);
    let best = &entry.fits[0];
    let want = &case["ranked"][0]["weights"];
    let want = want.as_object().expect("weights");
    assert_eq!(best.standards.len(), want.len(), "{:?}", best.standards);
    for (name, w) in best.standards.iter().zip(&best.weights) {
        let g = (stds.iter())
            .find(|g| name.ends_with(g.as_str()))
            .unwrap_or_else(|| panic!("{name} is not a standard"));
        let v = want[g]["value"].as_f64().expect("value");
        let s = want[g]["stderr"].as_f64().expect("stderr");
        assert!((w.value - v).abs() < 0.005, "{g}: {} vs Larch {v}", w.value);
        let ws = w.stderr.expect("stderr");
        assert!((ws - s).abs() < 0.05 * s, "{g}: σ {ws} vs Larch {s}");
    }
    // The one error: a broken scan among the samples (its χ(k) ends at
    // 1.75 Å⁻¹), reported when the projects were processed.
    assert!(
        (h.state().log.errors()).all(|l| l.contains("bead2-spot2.001: Fourier transform")),
        "{:?}",
        h.state().log.lines
    );
}

#[test]
fn feff_paths_of_a_structure_from_the_tree_join_the_fit_model() {
    let dir = std::env::temp_dir().join(format!("carto-gui-theory-{}", std::process::id()));
    let mut h = open_fit_model(&dir, "cu_1shell");
    let n0 = h.state().store.fit.model.as_ref().expect("model").datasets[0]
        .paths
        .len();
    {
        let app = &mut h.state_mut().state;
        app.store.add_cifs(
            &[common::data("cif/amcsd/copper_amcsd13088.cif")],
            &mut app.log,
        );
        app.view = carto::gui::views::SPECTRA;
    }
    h.step();
    h.step();
    // Right-click the structure in the tree, choose the Cu absorber.
    h.get_by_label("copper_amcsd13088 (Cu)").click_secondary();
    h.step();
    h.step();
    h.get_by_label("FEFF paths around Cu (K edge, to 5 Å)")
        .click();
    h.step();
    assert!(h.state().paths_task.is_some(), "{:?}", h.state().log.lines);
    step_until(&mut h, "the FEFF paths", |a| a.paths_task.is_none());
    let app = h.state();
    assert_eq!(app.view, carto::gui::views::FIT, "{:?}", app.log.lines);
    let paths = &app.store.fit.model.as_ref().expect("model").datasets[0].paths;
    // Cu metal to 5 Å: 7 paths (FEFF's filters), the first shell first,
    // at the CIF's a/√2 (a = 3.63 Å here).
    let added = &paths[n0..];
    assert_eq!(added.len(), 7, "{:?}", app.log.lines);
    let reff: Vec<f64> = added.iter().map(|p| p.feff.reff_ang).collect();
    assert!((reff[0] - 3.63 / 2f64.sqrt()).abs() < 0.001, "{reff:?}");
    assert_eq!(added[0].feff.degen, 12.0);
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Right-click a structure ▸ overlay its closed-form χ(k): a task, then
/// the Spectra view's χ(k) tab shows it beside the selected Cu foil, and
/// on |χ(R)| its first-shell peak sits where the measured one does.
#[test]
fn closed_form_chi_of_a_structure_overlays_the_selected_spectrum() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/columns/cu.xmu"),
        common::data("cif/amcsd/copper_amcsd13088.cif"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    let cu = h.state().store.find("cu.xmu").expect("cu.xmu");
    {
        let st = &mut h.state_mut().state;
        st.store.select_items_only(&mut st.selection, &[cu]);
        st.view = carto::gui::views::SPECTRA;
        st.plots.tab = PlotTab::Mu;
    }
    h.step();
    h.get_by_label("copper_amcsd13088 (Cu)").click_secondary();
    h.step();
    h.step();
    h.get_by_label("Overlay closed-form χ(k) around Cu").click();
    h.step();
    assert!(
        h.state().overlay_task.is_some(),
        "{:?}",
        h.state().log.lines
    );
    step_until(&mut h, "the closed-form χ(k)", |a| {
        a.overlay_task.is_none()
    });
    let app = h.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    let t = app.store.theory_overlay.as_ref().expect("an overlay");
    // The spectrum's e0 is the Cu K edge: that edge.
    assert_eq!(t.name, "copper_amcsd13088 Cu K");
    assert_eq!(app.plots.tab, PlotTab::ChiK, "the χ(k) tab is shown");
    let theory = |tab| {
        app.plot_series(tab)
            .into_iter()
            .find(|s| s.role == Role::Theory)
            .unwrap_or_else(|| panic!("no overlay on {tab:?}"))
    };
    let peak = |pts: &[[f64; 2]]| {
        pts.iter()
            .filter(|p| (1.0..4.0).contains(&p[0]))
            .fold([0.0, f64::MIN], |m, p| if p[1] > m[1] { *p } else { m })
    };
    let k = theory(PlotTab::ChiK);
    assert!(k.points.len() > 100 && k.points.iter().all(|p| p[1].is_finite()));
    let r = theory(PlotTab::ChiR);
    let data = app
        .plot_series(PlotTab::ChiR)
        .into_iter()
        .find(|s| s.role == Role::Data)
        .expect("the measured |χ(R)|");
    // Cu metal's first shell (2.55 Å) shows at ≈ 2.2 Å in |χ(R)| (the
    // scattering phase), in theory and measurement alike.
    let (pt, pd) = (peak(&r.points), peak(&data.points));
    eprintln!("|χ(R)| first peak: closed form {pt:?}, cu.xmu {pd:?}");
    assert!((pt[0] - pd[0]).abs() < 0.1, "theory {pt:?}, data {pd:?}");
    assert!((2.0..2.4).contains(&pd[0]), "{pd:?}");
    // ... and the menu clears it.
    h.get_by_label("copper_amcsd13088 (Cu)").click_secondary();
    h.step();
    h.step();
    h.get_by_label("Clear the overlay (copper_amcsd13088 Cu K)")
        .click();
    h.step();
    h.step();
    assert!(h.state().store.theory_overlay.is_none());
}

/// Right-click a structure ▸ simulate its XANES: refeff runs as a task
/// (Cancel stops it, nothing opens), and a full run opens the simulated
/// μ(E) as a spectrum: Cu's K edge, normalized by FEFF (step ≈ 1).
#[test]
fn simulated_xanes_of_a_structure_opens_as_a_spectrum() {
    let mut app = CartoApp::new();
    app.open_paths(&[common::data("cif/amcsd/copper_amcsd13088.cif")]);
    let mut h = harness(app);
    settle(&mut h);
    h.state_mut().state.view = carto::gui::views::SPECTRA;
    h.step();
    let menu = |h: &mut Harness<'_, CartoApp>| {
        h.get_by_label("copper_amcsd13088 (Cu)").click_secondary();
        h.step();
        h.step();
        h.get_by_label("Simulate XANES around Cu").click();
        h.step();
    };
    menu(&mut h);
    let task = h.state().xanes_task.as_ref().expect("a task");
    task.cancel();
    step_until(&mut h, "the cancelled XANES", |a| a.xanes_task.is_none());
    assert!(
        h.state()
            .store
            .find("copper_amcsd13088-Cu-K-xanes.dat")
            .is_none()
    );
    assert!(
        (h.state().log.lines.iter()).any(|l| l.text.contains("cancelled")),
        "{:?}",
        h.state().log.lines
    );
    menu(&mut h);
    step_until(&mut h, "the XANES simulation", |a| a.xanes_task.is_none());
    settle(&mut h);
    let app = h.state();
    let id = app
        .store
        .find("copper_amcsd13088-Cu-K-xanes.dat")
        .unwrap_or_else(|| panic!("not opened: {:?}", app.log.lines));
    let s = app
        .store
        .item(id)
        .and_then(|i| i.spectrum())
        .expect("a spectrum");
    let pre = (s.result.as_ref())
        .and_then(|r| r.pre.as_ref())
        .unwrap_or_else(|| panic!("not normalized: {:?}", app.log.lines));
    // FEFF's absolute energies put the Cu K edge within ~20 eV of 8979 eV.
    assert!((pre.e0 - 8979.0).abs() < 25.0, "e0 {}", pre.e0);
    assert!(
        (0.7..1.3).contains(&pre.edge_step),
        "step {}",
        pre.edge_step
    );
}

#[test]
fn a_dropped_folder_routes_its_cifs_to_structures_and_its_spectra_to_the_workspace() {
    let dir = std::env::temp_dir().join(format!("carto-gui-cif-folder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for f in [
        "cif/amcsd/hematite_amcsd17731.cif",
        "cif/amcsd/quartz_amcsd11008.cif",
        "xas/xdi/feo_rt1.xdi",
    ] {
        let src = common::data(f);
        std::fs::copy(&src, dir.join(src.file_name().expect("name"))).expect("copy");
    }
    let mut h = harness(CartoApp::new());
    h.step();
    h.input_mut().dropped_files = vec![std::sync::Arc::new(Dropped(dir.clone()))];
    settle(&mut h);
    let app = h.state();
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    let names: Vec<&str> = app.store.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"hematite_amcsd17731") && names.contains(&"quartz_amcsd11008"));
    assert!(
        app.store.find("feo_rt1.xdi").is_some(),
        "{:?}",
        app.log.lines
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Projection view on the five Fe XANES scans: PCA picked from the
/// combo boxes and trained on the task registry explains what scikit-learn
/// does (fixture); the coordinates join the feature table; an autoencoder
/// trains with its loss per epoch; the model saved and opened again
/// projects the scans with the same coordinates (also from a session).
#[test]
fn projection_view_trains_pca_an_autoencoder_and_pls_and_reapplies_a_model() {
    use carto::gui::views::projection::ProjectionView;
    let mut app = CartoApp::new();
    app.open_paths(&common::data_files("xas/series"));
    let mut h = harness(app);
    settle(&mut h);
    h.state_mut().state.view = carto::gui::views::PROJECTION;
    h.step();
    h.step();
    // Every scan of the series, whatever is selected.
    h.state_mut().state.selection.select_only(&[]);
    // XANES and PCA are the view's defaults.
    h.get_by_label("Train").click();
    step_until(&mut h, "the projection", |a| a.store.projection.is_some());
    let doc = h.state().store.projection.clone().expect("projection");
    assert_eq!(doc.points.len(), 5, "{:?}", doc.skipped);
    assert_eq!(doc.model.absorber, "Fe K");
    let fx = common::json_fixture("latent/fe_series_sklearn.json");
    let want = common::numbers(&fx["pca_explained_variance_ratio"]);
    let got = &doc.model.explained.per_component;
    assert_eq!(got.len(), 2);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-3 * w, "{g} vs scikit-learn {w}");
    }
    let rows = carto::gui::features::store_rows(&h.state().store, None);
    let with = rows
        .iter()
        .filter(|r| {
            r.extra
                .iter()
                .any(|(n, v)| n == "latent_pca_2" && v.is_some())
        })
        .count();
    assert_eq!(with, 5);
    // Save, forget, open: the scans are projected again, the same.
    let file = std::env::temp_dir().join(format!("carto-gui-proj-{}.json", std::process::id()));
    assert!(h.state_mut().state.save_projection(&file));
    h.state_mut().state.store.projection = None;
    h.state_mut().state.open_projection(&file);
    step_until(&mut h, "the projection again", |a| {
        a.store
            .projection
            .as_ref()
            .is_some_and(|d| d.points.len() == 5)
    });
    let again = h.state().store.projection.clone().expect("projection");
    for (a, b) in doc.points.iter().zip(&again.points) {
        assert_eq!(a.0, b.0);
        for (x, y) in a.2.iter().zip(&b.2) {
            assert!((x - y).abs() < 1e-9);
        }
    }
    // The model goes with the session and projects the scans on opening.
    let session = h.state().to_session();
    assert!(session.projection.is_some());
    // An autoencoder, 60 epochs, from the view's settings.
    {
        let app = h.state_mut();
        let v = carto::gui::views::find_mut::<ProjectionView>(&mut app.state.views).expect("view");
        v.method = carto::latent::project::Method::Autoencoder;
        v.components = 1;
        v.epochs = 60;
    }
    h.step();
    h.get_by_label("Train").click();
    step_until(&mut h, "the autoencoder", |a| {
        a.store
            .projection
            .as_ref()
            .is_some_and(|d| d.model.model.method() == carto::latent::project::Method::Autoencoder)
    });
    let ae = h.state().store.projection.clone().expect("projection");
    let loss = &ae.model.explained.loss_history;
    assert_eq!(loss.len(), 60);
    assert!(loss[59] < loss[0], "{loss:?}");
    assert!(
        h.query_all_by_label_contains("after 60 epochs")
            .next()
            .is_some()
    );
    // PLS against a feature column picked from the view's combo (the
    // scans' file order: the series' time), trained on all five: the
    // predictions are scikit-learn's, and join the feature table.
    {
        let app = h.state_mut();
        let v = carto::gui::views::find_mut::<ProjectionView>(&mut app.state.views).expect("view");
        v.method = carto::latent::project::Method::Pls;
        v.components = 2;
    }
    h.step();
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "target")
        .click();
    h.step();
    h.step();
    h.get_by_label("file_index").click();
    h.step();
    h.get_by_label("Train").click();
    step_until(&mut h, "the PLS projection", |a| {
        a.store
            .projection
            .as_ref()
            .is_some_and(|d| d.model.model.method() == carto::latent::project::Method::Pls)
    });
    let pls = h.state().store.projection.clone().expect("projection");
    assert_eq!(pls.model.target, "file_index");
    assert_eq!(pls.points.len(), 5, "{:?}", pls.skipped);
    let fx = common::json_fixture("latent/fe_series_pls_sklearn.json");
    let want = common::numbers(&fx["series"]["predict"]);
    let rows = carto::gui::features::store_rows(&h.state().store, None);
    let mut got: Vec<(i64, f64)> = rows
        .iter()
        .filter_map(|r| {
            let y = r
                .extra
                .iter()
                .find(|(n, _)| n == "pls_predicted_file_index")
                .and_then(|(_, v)| *v)?;
            Some((r.file_index?, y))
        })
        .collect();
    got.sort_by_key(|g| g.0);
    assert_eq!(got.len(), 5);
    for ((i, y), w) in got.iter().zip(&want) {
        assert!((y - w).abs() < 1e-6, "file {i}: {y} vs scikit-learn {w}");
    }
    assert!(
        h.query_all_by_label_contains("of the variance of file_index")
            .next()
            .is_some()
    );
    assert!(
        h.query_by_label("file_index predicted against the feature table (5 items)")
            .is_some()
    );
    // A bad model file is an error in the log; the model held stays.
    std::fs::write(&file, "{ \"carto_projection_model\": 9 }").expect("write");
    h.state_mut().state.open_projection(&file);
    assert!(
        h.state().log.errors().any(|e| e.contains("carto-gui-proj")),
        "{:?}",
        h.state().log.lines
    );
    assert!(h.state().store.projection.is_some());
    let _ = std::fs::remove_file(&file);
}

/// The Map view's settings row: UMAP layout and a stage-1 joint model
/// trained at Build (a task), picked from the combo boxes; the trained
/// model is held, saved to a file and opened again, and "the model held"
/// ranks the next Build with it.
#[test]
fn map_view_trains_a_joint_model_and_lays_out_with_umap() {
    let mut app = CartoApp::new();
    let mut paths = vec![
        common::data("xas/columns/cu.xmu"),
        common::data("xrd/rockjock/library/HEMATITE.xy"),
    ];
    for cif in [
        "copper_amcsd13088",
        "hematite_amcsd17731",
        "wustite_amcsd18048",
        "quartz_amcsd11008",
        "magnetite_amcsd9994",
        "goethite_amcsd16643",
        "cuprite_amcsd17890",
        "tenorite_amcsd18816",
    ] {
        paths.push(common::data(&format!("cif/amcsd/{cif}.cif")));
    }
    app.open_paths(&paths);
    let mut h = harness(app);
    settle(&mut h);
    assert_eq!(h.state().store.phases.len(), 8, "{:?}", h.state().log.lines);
    h.state_mut().store.patterns[0].wavelength_text = "CuKa".into();
    h.state_mut().state.view = carto::gui::views::MAP;
    h.step();
    let pick = |h: &mut Harness<'_, CartoApp>, combo: &str, item: &str| {
        h.get_by_role_and_label(egui::accesskit::Role::ComboBox, combo)
            .click();
        h.step();
        h.step();
        h.get_by_label(item).click();
        h.step();
        h.step();
    };
    pick(&mut h, "layout", "t-SNE");
    assert!(matches!(
        h.state().store.map_settings.layout,
        carto::latent::Layout::Tsne(_)
    ));
    assert!(h.query_by_label("perplexity").is_some());
    pick(&mut h, "layout", "UMAP");
    pick(&mut h, "ranking", "stage 1: train a joint model");
    {
        let st = &h.state().store.map_settings;
        assert!(matches!(st.layout, carto::latent::Layout::Umap(_)));
        assert_eq!(st.ranking, carto::session::MapRanking::Train);
    }
    h.get_by_label("Build map").click();
    step_until(&mut h, "the map", |a| a.store.map.is_some());
    let doc = h.state().store.map.clone().expect("a map");
    assert!(
        h.state().log.errors().next().is_none(),
        "{:?}",
        h.state().log.lines
    );
    assert_eq!(doc.stage, carto::latent::joint::Stage::Stage1);
    assert!(
        doc.run.map.layout.starts_with("umap("),
        "{}",
        doc.run.map.layout
    );
    assert!(
        doc.run
            .map
            .points
            .iter()
            .all(|p| p.x.is_finite() && p.y.is_finite())
    );
    let pat = doc
        .ids
        .iter()
        .position(|x| *x == Some(h.state().store.patterns[0].id));
    let pat = &doc.run.map.points[pat.expect("the pattern on the map")];
    assert_eq!(
        pat.nearest[0].cif, "hematite_amcsd17731",
        "{:?}",
        pat.nearest
    );
    // The trained model is held; saved and opened again, it ranks the next build.
    let held = h
        .state()
        .store
        .map_settings
        .model
        .clone()
        .expect("model held");
    assert!(
        h.state()
            .store
            .map_settings
            .model_source
            .starts_with("trained on")
    );
    let file = std::env::temp_dir().join(format!("carto-gui-joint-{}.json", std::process::id()));
    assert!(h.state_mut().state.save_map_model(&file));
    h.state_mut().state.store.map_settings.model = None;
    h.state_mut().state.open_map_model(&file);
    let st = &h.state().store.map_settings;
    assert!(st.model.is_some(), "{:?}", h.state().log.lines.last());
    assert_eq!(st.model.as_deref(), Some(&*held));
    assert_eq!(st.ranking, carto::session::MapRanking::Model);
    pick(&mut h, "layout", "PCA");
    h.state_mut().state.store.map = None;
    h.get_by_label("Build map").click();
    step_until(&mut h, "the map", |a| a.store.map.is_some());
    let doc = h.state().store.map.clone().expect("a map");
    assert_eq!(doc.run.map.layout, "pca");
    let from = &doc.model.as_ref().expect("ranked by the model").1;
    assert!(from.ends_with(".json"), "{from}");
    // A bad model file is an error in the log, and the held model stays.
    std::fs::write(&file, "{ not json").expect("write");
    h.state_mut().state.open_map_model(&file);
    assert!(
        h.state()
            .log
            .errors()
            .any(|e| e.contains(&*file.to_string_lossy())),
        "{:?}",
        h.state().log.lines
    );
    assert!(h.state().store.map_settings.model.is_some());
    let _ = std::fs::remove_file(&file);
}

/// The Map view: a Cu foil spectrum and the RockJock hematite pattern with
/// three CIF phases as candidates, built on the task registry; the Cu
/// spectrum's nearest candidate is copper and the pattern's is hematite
/// (only Cu structures rank the Cu spectrum), and the map's selection is
/// the one selection.
#[test]
fn map_view_places_spectra_patterns_and_phases_and_selects_through_them() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        common::data("xas/columns/cu.xmu"),
        common::data("xrd/rockjock/library/HEMATITE.xy"),
        common::data("cif/amcsd/copper_amcsd13088.cif"),
        common::data("cif/amcsd/hematite_amcsd17731.cif"),
        common::data("cif/amcsd/wustite_amcsd18048.cif"),
    ]);
    let mut h = harness(app);
    settle(&mut h);
    assert_eq!(h.state().store.phases.len(), 3);
    assert_eq!(h.state().store.patterns.len(), 1);
    // RockJock .xy files carry no wavelength: Cu Kα, as the library says.
    h.state_mut().store.patterns[0].wavelength_text = "CuKa".into();
    h.state_mut().state.view = carto::gui::views::MAP;
    h.step();
    h.get_by_label("Build map").click();
    step_until(&mut h, "the map", |a| a.store.map.is_some());
    let doc = h.state().store.map.clone().expect("a map");
    let pts = &doc.run.map.points;
    assert_eq!(pts.len(), 5, "{:?}", doc.skipped);
    let cu_id = h.state().store.find("cu.xmu").expect("cu.xmu");
    let pat_id = h.state().store.patterns[0].id;
    let at = |id: u64| {
        doc.ids
            .iter()
            .position(|x| *x == Some(id))
            .expect("on the map")
    };
    let cu = &pts[at(cu_id)];
    assert_eq!((cu.modality.as_str(), cu.absorber), ("exafs", Some("Cu")));
    assert_eq!(
        cu.nearest.len(),
        1,
        "only copper holds Cu: {:?}",
        cu.nearest
    );
    assert_eq!(cu.nearest[0].cif, "copper_amcsd13088");
    let pat = &pts[at(pat_id)];
    assert_eq!(pat.modality, "xrd");
    assert_eq!(pat.nearest[0].cif, "hematite_amcsd17731");
    assert!(pat.nearest[0].score > 0.8, "{:?}", pat.nearest);
    // Candidates are the phases, by id.
    for ph in &h.state().store.phases {
        assert!(doc.ids.contains(&Some(ph.id)), "{}", ph.name);
    }
    // Selecting an item (anywhere) focuses it beside the map with its
    // nearest candidates: the pattern lists hematite, the Cu spectrum
    // only copper.
    let hematite = |h: &Harness<'_, CartoApp>| h.query_all_by_label("hematite_amcsd17731").count();
    h.state_mut().state.selection.select_only(&[pat_id]);
    h.step();
    h.step();
    let with_pattern = hematite(&h);
    h.state_mut().state.selection.select_only(&[cu_id]);
    h.step();
    h.step();
    assert!(
        hematite(&h) < with_pattern,
        "the focus did not follow the selection"
    );
    // Its nearest candidate's closed-form χ(k) over it: a task, then the
    // Spectra view's χ(k) tab shows it.
    h.get_all_by_label("χ(k)")
        .next()
        .expect("the candidate's χ(k) button")
        .click();
    h.step();
    step_until(&mut h, "the candidate's χ(k)", |a| {
        a.overlay_task.is_none()
    });
    {
        let app = h.state();
        let t = app.store.theory_overlay.as_ref().expect("an overlay");
        assert_eq!(t.name, "copper_amcsd13088 Cu K", "{:?}", app.log.lines);
        assert_eq!(app.view, carto::gui::views::SPECTRA);
        assert!(
            app.plot_series(PlotTab::ChiK)
                .iter()
                .any(|s| s.role == Role::Theory)
        );
    }
    h.state_mut().state.view = carto::gui::views::MAP;
    h.step();
    h.step();
    // The complement among the map's measurements: the pattern.
    h.get_by_label("Select the other measurements").click();
    h.step();
    let sel: Vec<u64> = h.state().state.selection.selected.iter().copied().collect();
    assert_eq!(sel, vec![pat_id]);
    // Two clusters (one per measurement), the first named; the centroids
    // are drawn beside the map.
    h.state_mut().state.store.map_clusters.k = 2;
    h.step();
    h.step();
    let labels = h.state().store.map_clusters.labels.clone();
    assert_eq!(labels.len(), 5);
    let (lc, lp) = (labels[at(cu_id)], labels[at(pat_id)]);
    assert!(lc.is_some() && lp.is_some() && lc != lp, "{labels:?}");
    assert!(
        labels.iter().skip(2).all(Option::is_none),
        "candidates: {labels:?}"
    );
    let c = lc.expect("cluster");
    h.state_mut().state.store.map_clusters.names[c] = "metal".into();
    h.step();
    assert!(
        h.query_all_by_label_contains("cluster centroids")
            .next()
            .is_some()
    );
    // The feature table gets the map's columns, with the cluster's name.
    let rows = carto::gui::features::store_rows(&h.state().store, None);
    let cu_row = (rows.iter())
        .find(|r| {
            r.source_file
                .as_deref()
                .is_some_and(|f| f.ends_with("cu.xmu"))
        })
        .expect("cu row");
    assert_eq!(cu_row.map_x, Some(cu.x));
    assert_eq!(cu_row.map_cluster, Some(c as i64 + 1));
    assert_eq!(cu_row.map_cluster_name.as_deref(), Some("metal"));
    assert_eq!(cu_row.map_nearest_cif.as_deref(), Some("copper_amcsd13088"));
    assert!(
        cu_row
            .map_method
            .as_deref()
            .is_some_and(|m| m.contains("k-means k=2"))
    );
    // Colour by a feature column: e0 is known for the spectrum only.
    let app = h.state_mut();
    let store = &app.state.store;
    let view = carto::gui::views::find_mut::<carto::gui::views::map::MapView>(&mut app.state.views)
        .expect("map view");
    view.colour = carto::gui::views::map::ColourBy::Column("e0_ev".into());
    let series = view.series(store, &doc);
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    assert!(names.iter().any(|n| n.starts_with("e0_ev 89")), "{names:?}");
    assert!(names.contains(&"no e0_ev"), "{names:?}");
    // The map as SVG, as drawn.
    let path = std::env::temp_dir().join(format!("carto-map-{}.svg", std::process::id()));
    assert!(h.state_mut().export_map_svg(&path));
    let svg = std::fs::read_to_string(&path).expect("svg");
    assert!(
        svg.contains("e0_ev 89") && svg.contains("<polygon"),
        "{svg}"
    );
    let _ = std::fs::remove_file(&path);
}

/// What a reader accepted with a located warning (an XDI file without
/// Element.edge) reaches the log as a warning, and the file opens.
#[test]
fn reader_warnings_reach_the_log() {
    let mut app = CartoApp::new();
    app.open_paths(&[common::data("xas/xdi_suite/bad_02.xdi")]);
    let mut h = harness(app);
    settle(&mut h);
    let app = h.state();
    assert_eq!(app.store.items.len(), 1);
    let warned = app.log.lines.iter().any(|l| {
        l.level == carto::gui::log::Level::Warn && l.text.contains("bad_02.xdi:1: no Element.edge")
    });
    assert!(
        warned,
        "{:?}",
        app.log.lines.iter().map(|l| &l.text).collect::<Vec<_>>()
    );
}

/// An inverted μ(E) edge is processed (normalised upwards) and the
/// parameter panel says so, beside the spectrum it concerns.
#[test]
fn an_inverted_edge_is_flagged_in_the_parameter_panel() {
    let mut app = CartoApp::new();
    app.open_paths(&[
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed/inverted_mu.dat")
    ]);
    let mut h = harness(app);
    settle(&mut h);
    let id = h.state().store.items[0].id;
    h.state_mut().state.selection.select_only(&[id]);
    h.step();
    h.step();
    let shown = h
        .query_all_by_label_contains("an inverted edge")
        .next()
        .is_some();
    assert!(shown, "no warning in the panel");
}

/// `carto bench frame`'s drawing (not its timing): a map of n measurements
/// is drawn as one quad (two triangles) per measurement, so 4× the points
/// give about 4× the triangles, and dragging the map draws it again.
#[test]
fn a_large_map_draws_one_quad_per_measurement() {
    let small = carto::gui::frame_bench::bench_frame(5_000, 2);
    let large = carto::gui::frame_bench::bench_frame(20_000, 2);
    assert_eq!(large.points, 20_000);
    let per_point = (large.triangles - small.triangles) as f64 / 15_000.0;
    assert!(
        (1.9..=2.1).contains(&per_point),
        "{per_point} triangles per point ({} and {})",
        small.triangles,
        large.triangles
    );
    assert!(large.panning_median_ms.is_finite());
    // The command refuses more synthetic points than it can hold cheaply.
    let out = common::carto(["bench", "frame", "--points", "2000000"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--points 2000000: 1 to 1000000"), "{err}");
}

/// The Map view's XANES row: "μ(E) by XANES" places the Cu foil by its XANES;
/// measured standards (a TOML file, as "Standards…" sets it) give four Cu
/// phases their XANES and the foil lands on copper; then "simulate
/// candidates' XANES" with standards for the other three gives copper its
/// simulated XANES (refeff, cached), and the settings go with the session.
#[test]
fn map_view_places_xanes_with_standards_and_simulated_candidates() {
    let mut app = CartoApp::new();
    let mut paths = vec![common::data("xas/xdi/cu_metal_rt.xdi")];
    let cifs = [
        ("copper_amcsd13088", "CuHERFD_Cu Foil.001"),
        ("cuprite_amcsd17890", "CuHERFD_Cu(I)O.001"),
        ("tenorite_amcsd18816", "CuHERFD_nanoCuO.001"),
        ("covellite_amcsd10944", "CuHERFD_CuS.001"),
    ];
    for (cif, _) in cifs {
        paths.push(common::data(&format!("cif/amcsd/{cif}.cif")));
    }
    app.open_paths(&paths);
    let mut h = harness(app);
    settle(&mut h);
    let dir = std::env::temp_dir().join(format!("carto-gui-xanes-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let prj = common::data("athena/CuHERFD_standards.prj");
    let toml = |skip_copper: bool| {
        let mut t = String::new();
        for (cif, group) in cifs.iter().skip(usize::from(skip_copper)) {
            t += &format!(
                "[[standard]]\nspectrum = {:?}\ngroup = {group:?}\ncif = {cif:?}\n",
                prj.display().to_string()
            );
        }
        t
    };
    let all = dir.join("all.toml");
    std::fs::write(&all, toml(false)).expect("write");
    h.state_mut().state.view = carto::gui::views::MAP;
    h.step();
    h.get_by_label("μ(E) by XANES").click();
    h.step();
    assert!(h.state().store.map_settings.xanes);
    h.state_mut().state.store.map_settings.xanes_standards = Some(all.clone());
    h.step();
    assert!(h.query_by_label("all.toml").is_some());
    h.get_by_label("Build map").click();
    step_until(&mut h, "the map", |a| a.store.map.is_some());
    let foil_id = h.state().store.items[0].id;
    let nearest = |h: &Harness<'_, CartoApp>| {
        let doc = h.state().store.map.clone().expect("a map");
        let i = doc.ids.iter().position(|x| *x == Some(foil_id));
        let p = &doc.run.map.points[i.expect("the foil on the map")];
        assert_eq!(p.modality, "xanes");
        p.nearest
            .iter()
            .map(|n| (n.cif.clone(), n.score))
            .collect::<Vec<_>>()
    };
    let near = nearest(&h);
    assert_eq!(near.len(), 4, "{near:?}");
    assert_eq!(near[0].0, "copper_amcsd13088", "{near:?}");
    assert!(near[0].1 - near[1].1 > 0.08, "{near:?}");
    // Copper simulated, the others from standards.
    let three = dir.join("three.toml");
    std::fs::write(&three, toml(true)).expect("write");
    h.state_mut().state.store.map_settings.xanes_standards = Some(three);
    h.get_by_label("simulate candidates' XANES").click();
    h.step();
    assert!(h.state().store.map_settings.xanes_theory);
    h.state_mut().state.store.map = None;
    h.get_by_label("Build map").click();
    step_until(&mut h, "the map", |a| a.store.map.is_some());
    assert!(
        h.state().log.errors().next().is_none(),
        "{:?}",
        h.state().log.lines
    );
    let doc = h.state().store.map.clone().expect("a map");
    let copper = (doc.run.candidates.items.iter())
        .find(|c| c.id == "copper_amcsd13088")
        .expect("copper");
    assert!(
        copper
            .views
            .iter()
            .any(|(k, _)| k.modality() == carto::latent::Modality::Xanes),
        "{:?}",
        doc.skipped
    );
    let near = nearest(&h);
    assert_eq!(near.len(), 4, "{near:?}");
    let sim = near
        .iter()
        .find(|n| n.0 == "copper_amcsd13088")
        .expect("copper ranked");
    assert!(sim.1 > 0.6, "simulated copper vs the foil: {near:?}");
    // The XANES settings are saved with the session and read back.
    let saved = h.state().to_session();
    let m = saved.map.as_ref().expect("map settings saved");
    assert!(m.xanes && m.xanes_theory);
    assert!(
        m.xanes_standards
            .as_ref()
            .is_some_and(|p| p.ends_with("three.toml"))
    );
    let mut again = CartoApp::new();
    again.apply_session(&saved);
    let st = &again.store.map_settings;
    assert!(st.xanes && st.xanes_theory && st.xanes_standards.is_some());
    let _ = std::fs::remove_dir_all(&dir);
}
