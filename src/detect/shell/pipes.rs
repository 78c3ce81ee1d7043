//! Payloads that travel through pipes: what a pipeline of pure commands
//! prints (so `$(echo … | base64 -d)` has a value), and what a shell or an
//! interpreter at the end of a pipeline runs when it reads its stdin
//! (`echo … | base64 -d | sh`, `… | python3 -`, `source /dev/stdin`): the
//! decoded text is walked again, one level deeper, within the line's budget.

use super::eval;
use super::walker::Walker;
use super::Command;

/// Arguments that make a shell or `source` read its script from stdin.
const STDIN_FILES: &[&str] = &["-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"];

impl Walker<'_> {
    /// The output of the pipelines walked since log entry `from` at this depth
    /// and level (the statements of a substitution), when every stage is pure.
    pub(super) fn eval_pipes(
        &mut self,
        from: usize,
        depth: usize,
        level: usize,
    ) -> Option<(String, Vec<String>)> {
        let logs: Vec<Vec<Vec<usize>>> = self.pipes[from..]
            .iter()
            .filter(|p| p.depth == depth && p.level == level)
            .map(|p| p.stages.clone())
            .collect();
        if logs.is_empty() {
            return None;
        }
        let mut text = Vec::new();
        let mut decoders = Vec::new();
        for stages in &logs {
            let (bytes, d) = self.eval_stages(stages)?;
            text.extend(bytes);
            decoders.extend(d);
        }
        Some((String::from_utf8_lossy(&text).into_owned(), decoders))
    }

    /// Runs stages in order through the evaluator; each must be one command.
    fn eval_stages(&mut self, stages: &[Vec<usize>]) -> Option<(Vec<u8>, Vec<String>)> {
        let mut cur: Option<Vec<u8>> = None;
        let mut decoders = Vec::new();
        for ids in stages {
            let [id] = ids.as_slice() else { return None };
            let cmd = self.out.commands.get(*id)?;
            let out = eval::run(cmd, cur.as_deref(), &mut self.budget)?;
            decoders.extend(out.decoders);
            cur = Some(out.bytes);
        }
        cur.map(|c| (c, decoders))
    }

    /// For every stage that runs its stdin as code, decodes what the stages
    /// before it print and walks that code.
    pub(super) fn run_piped_payloads(&mut self, stages: &[Vec<usize>], depth: usize) {
        for s in 1..stages.len() {
            let [id] = stages[s].as_slice() else { continue };
            let kind = self.stdin_kind(&self.out.commands[*id]);
            if kind == StdinRun::No {
                continue;
            }
            let Some((bytes, decoders)) = self.eval_stages(&stages[..s]) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes).into_owned();
            match kind {
                StdinRun::Shell => self.run_payload(&text, &decoders, depth),
                StdinRun::Interpreter => {
                    if self.budget.take(text.len()) {
                        self.out.commands[*id].decoded_by = decoders;
                        self.interpreter_code(*id, text);
                    }
                }
                StdinRun::CurlConfig => {
                    // `printf 'url=…\ndata=@…' | curl -K -`: the options it reads
                    if let Some(argv) = super::curlrc::config_argv(&text) {
                        let line = argv.join(" ");
                        let cmd = Command::new(argv, super::Via::ShellC, depth + 1, line);
                        self.finish_command(cmd, Vec::new());
                    }
                }
                StdinRun::No => {}
            }
        }
    }

    /// Whether a command runs the script it reads on stdin, and as what.
    pub(super) fn stdin_kind(&self, cmd: &Command) -> StdinRun {
        if super::curlrc::config_on_stdin(cmd) {
            return StdinRun::CurlConfig;
        }
        let name = cmd.name();
        let args = cmd.args();
        let from_stdin_file = args.iter().any(|a| STDIN_FILES.contains(&a.as_str()));
        if name == "source" || name == "." {
            return if from_stdin_file {
                StdinRun::Shell
            } else {
                StdinRun::No
            };
        }
        if cmd.script.is_some() || cmd.code.is_some() {
            return StdinRun::No;
        }
        let only_flags = args.iter().all(|a| {
            (a.starts_with('-') && !["-m", "-c", "-e", "-r", "-f"].contains(&a.as_str()))
                || STDIN_FILES.contains(&a.as_str())
        });
        if !only_flags {
            return StdinRun::No;
        }
        if self.tax.shells.contains(&name) {
            StdinRun::Shell
        } else if super::lang_of(&name, self.tax).is_some() {
            StdinRun::Interpreter
        } else {
            StdinRun::No
        }
    }
}

/// How a command treats its stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StdinRun {
    No,
    Shell,
    Interpreter,
    /// `curl -K -`: the text is curl options.
    CurlConfig,
}
