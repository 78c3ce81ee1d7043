//! Windows registry writes that install persistence: `reg add|import` and
//! PowerShell's `New-ItemProperty` / `Set-ItemProperty` / `New-Item` / `Set-Item`
//! naming a key whose values run at logon (`assets/detect/canary.toml`,
//! `registry_autoruns`). Keys are compared folded: lowercase, with no
//! separators or spaces, because bash drops the backslashes of an unquoted key.

use crate::detect::hit::Hit;
use crate::detect::rules::id;
use crate::detect::shell::Command;
use crate::detect::taxonomy::Taxonomy;

/// Commands that write registry values.
const WRITERS: &[&str] = &[
    "reg",
    "reg.exe",
    "new-itemproperty",
    "set-itemproperty",
    "new-item",
    "set-item",
];

/// A key (or any argument) folded for comparison.
pub(crate) fn fold_key(k: &str) -> String {
    k.chars()
        .filter(|c| !matches!(c, '\\' | '/' | ' ' | '"' | '\''))
        .flat_map(char::to_lowercase)
        .collect()
}

/// CMD-TRACE-002 when `cmd` writes a value under an autorun key.
pub(super) fn autorun_hit(cmd: &Command, tax: &Taxonomy, ev: &str) -> Option<Hit> {
    let name = cmd.name().to_ascii_lowercase();
    if !WRITERS.contains(&name.as_str()) {
        return None;
    }
    let args = cmd.args();
    if name.starts_with("reg")
        && !args
            .first()
            .map(|a| {
                ["add", "import", "copy", "restore", "load"]
                    .contains(&a.to_ascii_lowercase().as_str())
            })
            .unwrap_or(false)
    {
        return None;
    }
    args.iter().map(|a| fold_key(a)).find(|a| {
        tax.registry_autoruns
            .iter()
            .any(|k| !k.is_empty() && a.contains(k.as_str()))
    })?;
    Some(Hit::new(
        id::CMD_PERSISTENCE,
        format!(
            "{} writes a registry key that runs a program at logon",
            cmd.name()
        ),
        ev,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::shell::parse_script;

    fn hit(line: &str) -> bool {
        let tax = Taxonomy::load(&Default::default()).unwrap();
        let s = parse_script(line, &tax);
        s.commands
            .iter()
            .any(|c| autorun_hit(c, &tax, line).is_some())
    }

    #[test]
    fn autorun_keys_in_any_spelling_are_persistence() {
        assert!(hit(
            r#"reg add "HKCU\Software\Microsoft\Windows\CurrentVersion\Run" /v u /d x.exe"#
        ));
        assert!(hit(
            r"reg add HKCU\Software\Microsoft\Windows\CurrentVersion\RunOnce /v u /d x"
        ));
        assert!(hit(
            r"pwsh -c 'New-ItemProperty -Path HKCU:\Software\Microsoft\Windows\CurrentVersion\Run -Name u -Value x'"
        ));
        assert!(!hit(
            r#"reg query "HKCU\Software\Microsoft\Windows\CurrentVersion\Run""#
        ));
        assert!(!hit(r"reg add HKCU\Software\Acme\App /v Theme /d dark"));
    }
}
