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
        let raw = builder
            .build()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        let mut settings: Settings = raw
            .try_deserialize()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        if let Some(url) = database_url {
            settings.database.url = url.to_owned();
        }
        settings.validate()?;
        Ok(settings)
    }
}
