//! Loading: the layers (defaults < TOML file < environment < flags) merged into [`Settings`].

use super::{ConfigError, Settings};
use std::path::Path;

impl Settings {
    /// Loads the file (if given) and the environment, applies `database_url` if given, validates.
    pub fn load(file: Option<&Path>, database_url: Option<&str>) -> Result<Settings, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.to_owned(),
                    reason: "no such file".into(),
                });
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("STREAMVAULT")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        let raw = builder.build().map_err(parse_error)?;
        let mut settings: Settings = raw.try_deserialize().map_err(parse_error)?;
        if let Some(url) = database_url {
            settings.database.url = url.to_owned();
        }
        settings.validate()?;
        Ok(settings)
    }
}

/// A parse error without what the file holds: TOML's message quotes the offending line (a
/// database URL with its password, a token put in the wrong place) and serde's quotes values;
/// the line, column, key and reason are what an operator needs.
fn parse_error(e: config::ConfigError) -> ConfigError {
    let text = e.to_string();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let excerpt = line
            .trim_start()
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start()
            .starts_with('|');
        if excerpt {
            continue;
        }
        // Between double quotes: a value from the file.
        for (i, part) in line.split('"').enumerate() {
            match (i % 2, i) {
                (_, 0) => out.push_str(part),
                (1, _) => out.push_str("\"***"),
                _ => {
                    out.push('"');
                    out.push_str(part);
                }
            }
        }
        out.push('\n');
    }
    ConfigError::Parse(out.trim_end().to_owned())
}
