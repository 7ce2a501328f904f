//! File ▸ Open recent: the last data files and sessions opened, newest
//! first, kept as JSON beside the autosave file (`recent.json` in the
//! state folder) or only in memory when there is no state folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How many entries the list keeps.
pub const MAX_RECENT: usize = 10;

/// What an entry reopens as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecentKind {
    /// A data file or folder (spectra, patterns), opened like File ▸ Open.
    Data,
    /// A session file.
    Session,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentEntry {
    pub path: PathBuf,
    pub kind: RecentKind,
}

/// The list, newest first, without duplicates, at most [`MAX_RECENT`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecentFiles {
    /// Format version of `recent.json`.
    #[serde(default = "one")]
    pub carto_recent: u32,
    pub entries: Vec<RecentEntry>,
}

fn one() -> u32 {
    1
}

/// The file the list lives in.
pub fn recent_path(state_dir: &Path) -> PathBuf {
    state_dir.join("recent.json")
}

impl RecentFiles {
    /// `path` becomes the newest entry; an older entry for the same path
    /// goes, and the oldest beyond [`MAX_RECENT`] fall off.
    pub fn push(&mut self, path: PathBuf, kind: RecentKind) {
        self.carto_recent = 1;
        self.entries.retain(|e| e.path != path);
        self.entries.insert(0, RecentEntry { path, kind });
        self.entries.truncate(MAX_RECENT);
    }

    /// Put `newer` (newest first) in front of this list, as if opened now.
    pub fn merge_newer(&mut self, newer: &RecentFiles) {
        for e in newer.entries.iter().rev() {
            self.push(e.path.clone(), e.kind);
        }
    }

    pub fn to_json(&self) -> String {
        // Plain strings and enums: serializing cannot fail; the fallback
        // keeps the signature honest without an unwrap.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// Parse `recent.json`; the list is cleaned up (duplicates, cap) in
    /// case the file was edited by hand.
    pub fn from_json(text: &str) -> Result<RecentFiles, String> {
        let raw: RecentFiles = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut list = RecentFiles::default();
        for e in raw.entries.into_iter().rev() {
            list.push(e.path, e.kind);
        }
        Ok(list)
    }

    /// Read the list from the state folder. No file yet: an empty list. A
    /// file that can't be read or parsed: an empty list and the warning to
    /// log (the next save replaces it).
    pub fn load(state_dir: &Path) -> (RecentFiles, Option<String>) {
        let path = recent_path(state_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (RecentFiles::default(), None);
            }
            Err(e) => {
                let w = format!("recent files: cannot read {}: {e}", path.display());
                return (RecentFiles::default(), Some(w));
            }
        };
        match Self::from_json(&text) {
            Ok(list) => (list, None),
            Err(e) => (
                RecentFiles::default(),
                Some(format!(
                    "recent files: {} is damaged ({e}); starting a new list",
                    path.display()
                )),
            ),
        }
    }

    /// Write the list to the state folder (atomically, as sessions are).
    pub fn save(&self, state_dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(state_dir)
            .map_err(|e| format!("cannot create {}: {e}", state_dir.display()))?;
        let path = recent_path(state_dir);
        crate::session::write_file_atomic(&path, self.to_json().as_bytes())
            .map_err(|e| format!("recent files: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(l: &RecentFiles) -> Vec<String> {
        l.entries
            .iter()
            .map(|e| e.path.display().to_string())
            .collect()
    }

    #[test]
    fn newest_first_without_duplicates_and_capped() {
        let mut l = RecentFiles::default();
        l.push("/d/a.xdi".into(), RecentKind::Data);
        l.push("/d/b.carto".into(), RecentKind::Session);
        l.push("/d/c.xdi".into(), RecentKind::Data);
        assert_eq!(paths(&l), ["/d/c.xdi", "/d/b.carto", "/d/a.xdi"]);
        // Opening a listed file again moves it to the top, once.
        l.push("/d/a.xdi".into(), RecentKind::Data);
        assert_eq!(paths(&l), ["/d/a.xdi", "/d/c.xdi", "/d/b.carto"]);
        assert_eq!(l.entries[2].kind, RecentKind::Session);
        for i in 0..20 {
            l.push(format!("/d/s{i}.xdi").into(), RecentKind::Data);
        }
        assert_eq!(l.entries.len(), MAX_RECENT);
        assert_eq!(paths(&l)[0], "/d/s19.xdi");
        assert_eq!(paths(&l)[MAX_RECENT - 1], "/d/s10.xdi");
        // Entries opened before the stored list was read stay newest.
        let mut stored = RecentFiles::default();
        stored.push("/d/old.xdi".into(), RecentKind::Data);
        stored.push("/d/s19.xdi".into(), RecentKind::Data);
        let mut early = RecentFiles::default();
        early.push("/d/x.carto".into(), RecentKind::Session);
        early.push("/d/y.xdi".into(), RecentKind::Data);
        stored.merge_newer(&early);
        assert_eq!(
            paths(&stored),
            ["/d/y.xdi", "/d/x.carto", "/d/s19.xdi", "/d/old.xdi"]
        );
    }

    #[test]
    fn round_trip_through_the_state_folder_and_damaged_files() {
        let dir = std::env::temp_dir().join(format!("carto-recent-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // No file yet: empty, nothing to say.
        assert_eq!(RecentFiles::load(&dir), (RecentFiles::default(), None));
        let mut l = RecentFiles::default();
        l.push("/d/a.xdi".into(), RecentKind::Data);
        l.push("/d/é s.carto".into(), RecentKind::Session);
        l.save(&dir).expect("save");
        assert_eq!(RecentFiles::load(&dir), (l.clone(), None));
        // A damaged file: empty list and a readable warning, never a panic.
        for bad in ["{not json", "[]", r#"{"entries": [{"path": 3}]}"#, ""] {
            std::fs::write(recent_path(&dir), bad).expect("write");
            let (list, warning) = RecentFiles::load(&dir);
            assert!(list.entries.is_empty(), "{bad}");
            let w = warning.expect("a warning");
            assert!(w.contains("damaged") && w.contains("recent.json"), "{w}");
        }
        // A hand-edited file with duplicates and too many entries is tidied.
        let many: Vec<String> = (0..12)
            .map(|i| format!(r#"{{"path": "/d/{}.xdi", "kind": "data"}}"#, i % 11))
            .collect();
        let text = format!(r#"{{"entries": [{}]}}"#, many.join(","));
        let l = RecentFiles::from_json(&text).expect("parses");
        assert_eq!(l.entries.len(), MAX_RECENT);
        assert_eq!(paths(&l)[0], "/d/0.xdi");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
