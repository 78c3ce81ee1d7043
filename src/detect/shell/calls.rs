//! Names the line itself defined: an alias's text stands in for its name, and a
//! function's body runs with the call's words as `$1`…`$9` and `$@`
//! (`f(){ cat "$1"; }; f ~/.ssh/id_rsa`). Each expansion spends the line's
//! budget, so a self-calling body cannot multiply without bound.

use super::walker::{shell_quote, Walker};
use super::words::WordInfo;
use super::Via;
use brush_parser::ast;

impl Walker<'_> {
    /// Runs what the first word stands for, if the line defined it; true when
    /// it did (the command is then that text, not a command of its own).
    pub(super) fn run_by_name(
        &mut self,
        words: &[WordInfo],
        items: &[&ast::CommandPrefixOrSuffixItem],
        depth: usize,
    ) -> bool {
        let Some(first) = words.first() else {
            return false;
        };
        // the command's redirections stay with it (`z -i >& /dev/tcp/…`)
        let redirs = || {
            items.iter().filter_map(|it| match it {
                ast::CommandPrefixOrSuffixItem::IoRedirect(io) => Some(io.to_string()),
                _ => None,
            })
        };
        if let Some(body) = self
            .env
            .alias(&first.text)
            .filter(|b| self.budget.expansion(b.len()))
        {
            let rest: Vec<String> = words[1..]
                .iter()
                .map(|w| shell_quote(&w.text))
                .chain(redirs())
                .collect();
            self.script(&format!("{body} {}", rest.join(" ")), Via::Alias, depth + 1);
            return true;
        }
        if first.dynamic {
            return false;
        }
        let Some(body) = self
            .env
            .function(&first.text)
            .filter(|b| self.budget.expansion(b.len()))
        else {
            return false;
        };
        let rest: Vec<String> = redirs().collect();
        let saved = self
            .env
            .set_positional(words[1..].iter().map(|w| w.text.clone()).collect());
        self.script(
            &format!("{body} {}", rest.join(" ")),
            Via::Function,
            depth + 1,
        );
        self.env.restore_positional(saved);
        true
    }
}
