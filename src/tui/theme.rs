//! Colour themes: semantic roles (text, accent, severities, redaction markers …)
//! loaded from TOML. `dark`, `light` and `high-contrast` are embedded; a user
//! theme is read from `<config dir>/themes/NAME.toml` and laid over `dark`.
//! With `NO_COLOR` set, every role drops its colours and keeps only modifiers.

use crate::model::Severity;
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;

const DARK: &str = include_str!("../../themes/dark.toml");
const LIGHT: &str = include_str!("../../themes/light.toml");
const HIGH_CONTRAST: &str = include_str!("../../themes/high-contrast.toml");

/// The styles every view draws with.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub text: Style,
    pub dim: Style,
    pub accent: Style,
    pub border: Style,
    pub title: Style,
    pub header: Style,
    pub selected: Style,
    pub tab: Style,
    pub tab_active: Style,
    pub critical: Style,
    pub high: Style,
    pub medium: Style,
    pub low: Style,
    pub info: Style,
    pub ok: Style,
    pub error: Style,
    /// `[REDACTED:rule]` and `[HASH:rule:xxxx]` markers.
    pub marker: Style,
    /// Things that must not be missed (redaction disabled, dropped batches).
    pub loud: Style,
    pub status: Style,
    pub key: Style,
    pub bar: Style,
    pub bar_tool: Style,
    pub bar_llm: Style,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    mods: Vec<String>,
}

/// Why a theme could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("theme {name}: not built in (dark, light, high-contrast) and no file {path}")]
    Unknown { name: String, path: String },
    #[error("{file}: invalid theme: {why}")]
    Invalid { file: String, why: String },
}

impl Theme {
    /// The default theme.
    pub fn dark() -> Theme {
        // The embedded themes are tested; fall back to plain styles rather than panic.
        Theme::from_layers(&[("dark.toml", DARK)]).unwrap_or_else(|_| Theme::mono())
    }

    /// A theme by name: built in, or `<config dir>/themes/NAME.toml` over `dark`.
    /// `no_color` strips every colour (for `NO_COLOR`).
    pub fn load(name: Option<&str>, no_color: bool) -> Result<Theme, ThemeError> {
        let name = name.unwrap_or("dark");
        let theme = match name {
            "dark" => Theme::from_layers(&[("dark.toml", DARK)])?,
            "light" => Theme::from_layers(&[("light.toml", LIGHT)])?,
            "high-contrast" => Theme::from_layers(&[("high-contrast.toml", HIGH_CONTRAST)])?,
            other => {
                let safe = !other.contains(['/', '\\']) && !other.starts_with('.');
                let path = crate::paths::config_dir()
                    .map(|d| d.join("themes").join(format!("{other}.toml")))
                    .filter(|_| safe);
                let text = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
                match (path, text) {
                    (Some(p), Some(t)) => {
                        let file = p.display().to_string();
                        Theme::from_layers(&[("dark.toml", DARK), (&file, &t)])?
                    }
                    (p, _) => {
                        return Err(ThemeError::Unknown {
                            name: crate::sanitize::line(other).into_owned(),
                            path: p
                                .map(|p| p.display().to_string())
                                .unwrap_or_else(|| "(no config folder)".into()),
                        })
                    }
                }
            }
        };
        Ok(if no_color {
            theme.without_colour()
        } else {
            theme
        })
    }

    /// Plain styles with modifiers only (the `NO_COLOR` look).
    pub fn mono() -> Theme {
        let b = Style::new().add_modifier(Modifier::BOLD);
        let r = Style::new().add_modifier(Modifier::REVERSED);
        Theme {
            text: Style::new(),
            dim: Style::new(),
            accent: b,
            border: Style::new(),
            title: b,
            header: b.add_modifier(Modifier::UNDERLINED),
            selected: r,
            tab: Style::new(),
            tab_active: r,
            critical: r.add_modifier(Modifier::BOLD),
            high: b,
            medium: Style::new(),
            low: Style::new(),
            info: Style::new(),
            ok: Style::new(),
            error: b,
            marker: r,
            loud: r.add_modifier(Modifier::BOLD),
            status: Style::new(),
            key: b,
            bar: Style::new(),
            bar_tool: Style::new(),
            bar_llm: Style::new(),
        }
    }

    /// The same theme with every colour removed (modifiers kept).
    pub fn without_colour(&self) -> Theme {
        let s = |st: Style| Style {
            fg: None,
            bg: None,
            ..st
        };
        let mut t = self.clone();
        for st in t.roles_mut() {
            *st = s(*st);
        }
        // Selection and markers must stay visible without colour.
        t.selected = t.selected.add_modifier(Modifier::REVERSED);
        t.marker = t.marker.add_modifier(Modifier::REVERSED);
        t.loud = t.loud.add_modifier(Modifier::REVERSED | Modifier::BOLD);
        t.tab_active = t.tab_active.add_modifier(Modifier::REVERSED);
        t.critical = t.critical.add_modifier(Modifier::REVERSED);
        t
    }

    /// The style of a severity badge.
    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    fn roles_mut(&mut self) -> [&mut Style; 23] {
        [
            &mut self.text,
            &mut self.dim,
            &mut self.accent,
            &mut self.border,
            &mut self.title,
            &mut self.header,
            &mut self.selected,
            &mut self.tab,
            &mut self.tab_active,
            &mut self.critical,
            &mut self.high,
            &mut self.medium,
            &mut self.low,
            &mut self.info,
            &mut self.ok,
            &mut self.error,
            &mut self.marker,
            &mut self.loud,
            &mut self.status,
            &mut self.key,
            &mut self.bar,
            &mut self.bar_tool,
            &mut self.bar_llm,
        ]
    }

    const NAMES: [&'static str; 23] = [
        "text",
        "dim",
        "accent",
        "border",
        "title",
        "header",
        "selected",
        "tab",
        "tab_active",
        "critical",
        "high",
        "medium",
        "low",
        "info",
        "ok",
        "error",
        "marker",
        "loud",
        "status",
        "key",
        "bar",
        "bar_tool",
        "bar_llm",
    ];

    /// Builds a theme from TOML layers; later layers override earlier ones role by role.
    fn from_layers(layers: &[(&str, &str)]) -> Result<Theme, ThemeError> {
        let mut t = Theme::mono();
        for (file, text) in layers {
            let err = |why: String| ThemeError::Invalid {
                file: file.to_string(),
                why,
            };
            let roles: BTreeMap<String, RoleSpec> =
                toml::from_str(text).map_err(|e| err(e.message().to_string()))?;
            for (name, spec) in roles {
                let i = Theme::NAMES
                    .iter()
                    .position(|n| *n == name)
                    .ok_or_else(|| err(format!("unknown role {name:?}")))?;
                let style = spec_style(&spec).map_err(err)?;
                *t.roles_mut()[i] = style;
            }
        }
        Ok(t)
    }
}

fn spec_style(spec: &RoleSpec) -> Result<Style, String> {
    let colour = |s: &str| -> Result<Color, String> {
        s.parse::<Color>()
            .map_err(|_| format!("unknown colour {s:?}"))
    };
    let mut st = Style::new();
    if let Some(fg) = &spec.fg {
        st = st.fg(colour(fg)?);
    }
    if let Some(bg) = &spec.bg {
        st = st.bg(colour(bg)?);
    }
    for m in &spec.mods {
        st = st.add_modifier(match m.as_str() {
            "bold" => Modifier::BOLD,
            "dim" => Modifier::DIM,
            "italic" => Modifier::ITALIC,
            "underlined" => Modifier::UNDERLINED,
            "reversed" => Modifier::REVERSED,
            other => return Err(format!("unknown modifier {other:?}")),
        });
    }
    Ok(st)
}

/// True when the environment asks for no colour (`NO_COLOR` set and not empty).
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_parse_and_differ() {
        let d = Theme::load(Some("dark"), false).expect("dark");
        let l = Theme::load(Some("light"), false).expect("light");
        let h = Theme::load(Some("high-contrast"), false).expect("hc");
        assert_eq!(d.accent.fg, Some(Color::Cyan));
        assert_ne!(d, l);
        assert_ne!(l, h);
    }

    #[test]
    fn no_color_strips_colours_but_keeps_markers_visible() {
        let t = Theme::load(None, true).expect("dark");
        for st in t.clone().roles_mut() {
            assert_eq!((st.fg, st.bg), (None, None));
        }
        assert!(t.marker.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn bad_themes_name_the_problem() {
        let e = Theme::from_layers(&[("x.toml", "text = { fg = \"nope\" }")]).expect_err("bad");
        assert_eq!(
            e.to_string(),
            "x.toml: invalid theme: unknown colour \"nope\""
        );
        let e = Theme::from_layers(&[("x.toml", "shiny = { fg = \"red\" }")]).expect_err("bad");
        assert!(e.to_string().contains("unknown role"));
        assert!(Theme::load(Some("../../etc/passwd"), false).is_err());
    }
}
