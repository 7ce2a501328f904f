//! Session files: the format round-trips, saving is atomic (a kill -9 in
//! the middle of a save leaves a loadable file), and the app reloads what it
//! saved, reporting missing or changed files in the log.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use carto::session::{Session, SessionItem, backup_path, sha256_hex};
use carto::xas::ChainParams;

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("carto-session-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn small_session(tag: &str) -> Session {
    let mut p = ChainParams::default();
    p.autobk.rbkg = 1.3;
    p.ft.kmin = 2.5;
    Session {
        items: vec![SessionItem {
            name: tag.into(),
            path: "/data/cu.xdi".into(),
            sha256: sha256_hex(tag.as_bytes()),
            group: Some("Cu foil".into()),
            mu: Some(carto::io::MuMode::Transmission),
            mu_recipe: None,
            params: Some(p),
            color: [1, 2, 3, 255],
            edits: vec![carto::xas::edit::Edit::Shift {
                eshift_ev: 0.5,
                reference: None,
            }],
            id: Some(7),
        }],
        selected: vec![0],
        active: Some(0),
        ..Session::default()
    }
}

#[test]
fn session_file_round_trips_and_keeps_a_backup() {
    let dir = scratch("roundtrip");
    let path = dir.join("a.carto");
    let first = small_session("first");
    first.save(&path).expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("\"carto_session\": 6"), "{text}");
    assert!(
        text.contains("\"op\": \"shift\""),
        "the edit journal: {text}"
    );
    assert!(text.contains("\"rbkg\": 1.3"), "human-readable: {text}");
    assert_eq!(Session::load(&path).expect("load"), first);

    let second = small_session("second");
    second.save(&path).expect("save again");
    assert_eq!(Session::load(&path).expect("load"), second);
    assert_eq!(
        Session::load(&backup_path(&path)).expect("load .bak"),
        first,
        "the previous file is kept as .bak"
    );
    assert!(!dir.join("a.carto.tmp").exists());
}

#[test]
fn a_garbage_session_is_an_error_not_a_panic() {
    let dir = scratch("garbage");
    let path = dir.join("bad.carto");
    std::fs::write(&path, b"{\"carto_session\": 1, \"items\": [{\"name\": 3}]}").expect("w");
    let e = Session::load(&path).expect_err("bad item");
    assert!(e.to_string().contains("bad.carto"), "{e}");
    let e = Session::load(&dir.join("missing.carto")).expect_err("missing");
    assert!(e.to_string().contains("missing.carto"), "{e}");
}

/// kill -9 the binary while it writes a large session slowly, at several
/// moments: the session file is always the old or the new one, whole.
#[test]
fn kill_during_save_leaves_old_or_new_file_loadable() {
    let dir = scratch("kill");
    let path = dir.join("big.carto");
    let old = small_session("old");
    old.save(&path).expect("save old");
    let tmp = dir.join("big.carto.tmp");
    let mut saw_partial_tmp = false;
    for kill_after_ms in [30u64, 150, 400] {
        let _ = std::fs::remove_file(&tmp);
        let mut child = Command::new(env!("CARGO_BIN_EXE_carto"))
            .env("CARTO_TEST_WRITE_SESSION", &path)
            .env("CARTO_TEST_SLOW_SAVE_MS", "2")
            .spawn()
            .expect("spawn carto");
        // Wait for the temp file to appear, then a little more.
        let start = Instant::now();
        while !tmp.exists() && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        child.kill().expect("kill -9");
        let _ = child.wait();
        if tmp.exists() && Session::load(&tmp).is_err() {
            saw_partial_tmp = true;
        }
        let s = Session::load(&path).expect("session file loadable after kill");
        assert!(
            s == old || s.items.len() == 2000,
            "neither the old nor the new session"
        );
    }
    assert!(saw_partial_tmp, "no kill landed in the middle of a write");
    // Left alone, the same save completes and replaces the file.
    let status = Command::new(env!("CARGO_BIN_EXE_carto"))
        .env("CARTO_TEST_WRITE_SESSION", &path)
        .status()
        .expect("run carto");
    assert!(status.success());
    assert_eq!(Session::load(&path).expect("new").items.len(), 2000);
}

#[cfg(feature = "gui")]
mod app {
    use super::*;
    use carto::gui::CartoApp;

    fn copy_in(dir: &std::path::Path, rel: &str) -> PathBuf {
        let src = common::data(rel);
        let dst = dir.join(src.file_name().expect("name"));
        std::fs::copy(&src, &dst).expect("copy");
        dst
    }

    #[test]
    fn app_session_reloads_equal_and_reports_missing_and_changed_files() {
        let dir = scratch("app");
        let a = copy_in(&dir, "xas/xdi/cu_metal_rt.xdi");
        let b = copy_in(&dir, "xas/xdi/feo_rt1.xdi");
        let mut app = CartoApp::new();
        app.open_paths(&[a.clone(), b.clone()]);
        let ids: Vec<u64> = app.store.items.iter().map(|i| i.id).collect();
        assert_eq!(ids.len(), 2);
        if let Some(s) = app.store.item_mut(ids[0]).and_then(|i| i.spectrum_mut()) {
            let mut p = s.params.clone();
            p.autobk.rbkg = 1.25;
            s.set_params(p);
        }
        app.store.items[1].color = egui::Color32::from_rgb(9, 8, 7);
        app.store.items[1].name = "renamed FeO".into();
        app.plots.tab = carto::gui::PlotTab::ChiR;
        let path = dir.join("s.carto");
        assert!(app.save_session(&path));

        let mut back = CartoApp::new();
        assert!(back.open_session(&path));
        assert!(back.log.errors().next().is_none(), "{:?}", back.log.lines);
        assert_eq!(back.to_session(), app.to_session());

        // A changed file is a warning, a missing one an error; the rest loads.
        let mut text = std::fs::read(&b).expect("r");
        text.extend_from_slice(b"\n# edited\n");
        std::fs::write(&b, text).expect("w");
        std::fs::remove_file(&a).expect("rm");
        let mut partial = CartoApp::new();
        assert!(partial.open_session(&path));
        assert_eq!(partial.store.items.len(), 1);
        assert_eq!(partial.store.items[0].name, "renamed FeO");
        let errors: Vec<&str> = partial.log.errors().collect();
        assert!(
            errors.len() == 1 && errors[0].contains("cu_metal_rt.xdi"),
            "{errors:?}"
        );
        assert!(
            partial
                .log
                .lines
                .iter()
                .any(|l| l.text.contains("changed since the session was saved")),
            "{:?}",
            partial.log.lines
        );
    }

    /// The Map view's settings (layout, ranking, the joint model held,
    /// cluster names) go with the session; a model spoilt in the file is
    /// refused with its field named.
    #[test]
    fn map_settings_and_the_joint_model_round_trip() {
        use carto::latent::candidates::{CandidateOptions, read_structures};
        use carto::latent::{JointModel, JointOptions, Layout, UmapOptions};
        use carto::session::MapRanking;
        let dir = scratch("map");
        let files =
            carto::xrd::identify::candidate_files(&common::data("cif/amcsd")).expect("CIFs");
        let mut lib = carto::theory::closed::PairLibrary::user();
        let set = carto::latent::candidates_of(
            read_structures(&files),
            &CandidateOptions::default(),
            &mut lib,
            &mut |_, _| true,
        )
        .expect("candidates")
        .expect("not cancelled");
        let model = JointModel::fit(&set.items, &JointOptions::default()).expect("model");
        let mut app = CartoApp::demo();
        let layout = Layout::Umap(UmapOptions {
            neighbours: 20,
            min_dist: 0.25,
            epochs: 300,
        });
        let st = &mut app.store.map_settings;
        st.layout = layout;
        st.ranking = MapRanking::Model;
        st.model = Some(std::sync::Arc::new(model.clone()));
        st.model_source = "trained on 35 candidates".into();
        app.store.map_clusters.k = 2;
        app.store.map_clusters.names = vec!["metal".into(), "oxide".into()];
        let path = dir.join("map.carto");
        assert!(app.save_session(&path));
        let mut back = CartoApp::new();
        assert!(back.open_session(&path));
        assert!(back.log.errors().next().is_none(), "{:?}", back.log.lines);
        let st = &back.store.map_settings;
        assert_eq!(st.layout, layout);
        assert_eq!(st.ranking, MapRanking::Model);
        assert_eq!(st.model.as_deref(), Some(&model));
        assert_eq!(st.model_source, "trained on 35 candidates");
        assert_eq!(back.store.map_clusters.names, ["metal", "oxide"]);
        assert_eq!(back.to_session(), app.to_session());
        // A t-SNE layout with its perplexity, too.
        let tsne = Layout::Tsne(carto::latent::TsneOptions {
            perplexity: 12.5,
            epochs: 600,
        });
        app.store.map_settings.layout = tsne;
        let path2 = dir.join("tsne.carto");
        assert!(app.save_session(&path2));
        let mut again = CartoApp::new();
        assert!(again.open_session(&path2));
        assert_eq!(again.store.map_settings.layout, tsne);

        // A spoilt model: the session is refused, naming the field.
        let text = std::fs::read_to_string(&path).expect("read");
        let spoilt = text.replacen("\"format\": \"carto-joint-model", "\"format\": \"other", 1);
        assert_ne!(spoilt, text, "the model's format field is in the file");
        let bad = dir.join("spoilt.carto");
        std::fs::write(&bad, spoilt).expect("write");
        let e = Session::load(&bad).expect_err("refused").to_string();
        assert!(e.contains("map.model.format"), "{e}");
        let mut app = CartoApp::new();
        assert!(!app.open_session(&bad));
        // An older session (no map part) opens with the defaults.
        let mut old = back.to_session();
        old.map = None;
        back.apply_session(&old);
        assert_eq!(back.store.map_settings.layout, Layout::Pca);
        assert!(back.store.map_settings.model.is_none());
    }

    #[test]
    fn demo_session_round_trips_through_builtin_files() {
        let dir = scratch("demo");
        let app = CartoApp::demo();
        let path = dir.join("demo.carto");
        app.to_session().save(&path).expect("save");
        let mut back = CartoApp::new();
        assert!(back.open_session(&path));
        assert_eq!(back.to_session(), app.to_session());
        assert_eq!(back.store.selected_spectra(&back.selection).len(), 2);
    }
}

/// A FIFO or a device named as a session is refused by the one read rule
/// (it would never end), and bytes that are not UTF-8 say so.
#[test]
fn a_fifo_device_or_binary_session_is_refused_not_read_forever() {
    let dir = scratch("fifo");
    let fifo = dir.join("s.carto");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let e = Session::load(&fifo).expect_err("a FIFO is not a session");
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let e = Session::load(std::path::Path::new("/dev/zero")).expect_err("a device");
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let bin = dir.join("b.carto");
    std::fs::write(&bin, [0x7b, 0xff, 0xfe, 0x00]).expect("write");
    let e = Session::load(&bin).expect_err("not UTF-8");
    assert!(e.to_string().contains("not UTF-8"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
