//! The log shown in the bottom panel: what happened, at three levels.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub level: Level,
    pub text: String,
}

/// The log shown in the bottom panel.
#[derive(Debug, Default)]
pub struct Log {
    pub lines: Vec<LogLine>,
}

impl Log {
    pub fn info(&mut self, text: impl Into<String>) {
        self.push(Level::Info, text.into());
    }
    pub fn warn(&mut self, text: impl Into<String>) {
        self.push(Level::Warn, text.into());
    }
    pub fn error(&mut self, text: impl Into<String>) {
        self.push(Level::Error, text.into());
    }
    fn push(&mut self, level: Level, text: String) {
        self.lines.push(LogLine { level, text });
    }
    pub fn errors(&self) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .filter(|l| l.level == Level::Error)
            .map(|l| l.text.as_str())
    }
}
