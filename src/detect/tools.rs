//! Tool calls understood per agent: what a span's tool call *does*.
//!
//! Claude Code `Bash`/`Read`/`Write`/`Edit`/`MultiEdit`/`Glob`/`Grep`/`WebFetch`/`Skill`,
//! Codex `shell` (argv arrays like `["bash","-lc","…"]`), `exec_command`,
//! `shell_command`, `local_shell_call`, `apply_patch` (raw patch text), Gemini CLI
//! (`run_shell_command`, `read_many_files`, `replace`, `web_fetch`...), Copilot CLI
//! (`bash`, `view`, `create`), OpenCode (`bash`, `read`, `webfetch`), Cline / Roo /
//! Kilo (`execute_command`, `write_to_file`, `replace_in_file`, `apply_diff`), OTel and
//! Agents SDK function tools, and MCP tools (`mcp__<server>__<tool>`, or the
//! `mcp_server`/`mcp_tool` attributes a parser sets) all become a
//! list of [`Action`]s; unknown tools are read generically from argument names
//! (`command`, `path`, `url`...).

use super::shell::{parse_argv_in, parse_script_in, Script};
use super::taxonomy::Taxonomy;
use crate::model::Span;
use serde_json::Value;

mod args;
mod patch;
use args::{generic, paths_in, quoted_commands};
use patch::{patch_actions, patch_text};

/// One thing a tool call does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A shell command line, parsed.
    Shell {
        text: String,
        script: Script,
    },
    Read {
        path: String,
    },
    Write {
        path: String,
        content: String,
    },
    /// Listing or globbing a folder.
    List {
        path: String,
    },
    /// Searching file contents (reads them) for `pattern`.
    Search {
        path: String,
        pattern: String,
    },
    Fetch {
        url: String,
    },
    /// An argument naming where the call sends (`to`, `bucket`, `remote`): a
    /// host the call reaches, not a page it fetches.
    Send {
        url: String,
    },
    /// Claude Code `Skill` tool: the skill's name.
    Skill {
        name: String,
    },
}

/// What a tool call does, and whether its arguments leave the machine.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolCall {
    /// Tool name as given.
    pub tool: String,
    /// `Some(server)` for MCP tools.
    pub mcp_server: Option<String>,
    pub actions: Vec<Action>,
    /// The working directory the call names itself (Codex `workdir`), if any.
    pub cwd: Option<String>,
    /// The prompt a subagent tool hands on (`Task`'s `prompt`).
    pub delegated: Option<String>,
    /// An argument says where the call sends (`remote`, `to`, `bucket`, `channel`).
    pub sends: bool,
}

impl ToolCall {
    /// True when the tool's arguments are handed to something off this process:
    /// a fetch, an MCP server, a shell command that connects somewhere.
    pub fn is_mcp(&self) -> bool {
        self.mcp_server.is_some()
    }
}

const SHELL_TOOLS: &[&str] = &[
    "bash",
    "shell",
    "exec_command",
    "shell_command",
    "local_shell_call",
    "local_shell",
    "run_shell_command",
    "execute_command",
    "run_command",
    "terminal",
    "run_terminal_cmd",
    "container.exec",
    "exec",
    "execute_bash",
    "bash_tool",
    "cmd",
    "run",
    "execute",
    "sh",
    "run_in_terminal",
    "powershell",
];
const READ_TOOLS: &[&str] = &[
    "read",
    "read_file",
    "view",
    "cat",
    "open_file",
    "readfile",
    "view_file",
    "notebookread",
    "read_text_file",
    "read_multiple_files",
    "get_file_contents",
    "read_many_files",
];
const WRITE_TOOLS: &[&str] = &[
    "write",
    "write_file",
    "create_file",
    "writefile",
    "edit",
    "multiedit",
    "edit_file",
    "str_replace",
    "notebookedit",
    "replace",
    "str_replace_based_edit_tool",
    "str_replace_editor",
    "insert",
    "append_file",
    "save_file",
    "create_or_update_file",
    "push_files",
    "write_to_file",
    "replace_in_file",
    "apply_diff",
    "insert_content",
    "search_and_replace",
    "create",
];
const LIST_TOOLS: &[&str] = &[
    "glob",
    "ls",
    "list_dir",
    "list_directory",
    "list_files",
    "directory_tree",
    "find_files",
    "list",
    "list_code_definition_names",
];
const SEARCH_TOOLS: &[&str] = &[
    "grep",
    "search",
    "ripgrep",
    "search_files",
    "codebase_search",
    "grep_search",
    "search_file_content",
];
const PATH_KEYS: &[&str] = &[
    "file_path",
    "path",
    "filepath",
    "file",
    "filename",
    "notebook_path",
    "target_file",
    "absolute_path",
    "source",
    "dir",
    "directory",
    "paths",
    "filePath",
    "dir_path",
    "include",
];
const URL_KEYS: &[&str] = &[
    "url",
    "uri",
    "endpoint",
    "href",
    "webhook",
    "webhook_url",
    "link",
    "target_url",
];
const COMMAND_KEYS: &[&str] = &[
    "command",
    "cmd",
    "script",
    "commandline",
    "command_line",
    "shell_command",
    "code_to_run",
];
const CONTENT_KEYS: &[&str] = &[
    "content",
    "new_string",
    "new_str",
    "text",
    "file_text",
    "insert_text",
    "contents",
    "newString",
    "diff",
];

/// Reads a span's tool call; `None` when the span is not a tool call.
pub fn understand(span: &Span, tax: &Taxonomy) -> Option<ToolCall> {
    understand_in(span, tax, None)
}

/// [`understand`] for a call run in `cwd` (the run's working directory):
/// shell commands are read relative to it, or to the call's own `workdir`.
pub fn understand_in(span: &Span, tax: &Taxonomy, cwd: Option<&str>) -> Option<ToolCall> {
    let tool = span
        .tool_name
        .clone()
        .or_else(|| (span.kind == crate::model::SpanKind::Tool).then(|| span.name.clone()))?;
    let input = span.tool_input.as_deref().unwrap_or("");
    let json: Option<Value> = serde_json::from_str(input).ok();
    let (mut mcp_server, mut short) = split_mcp(&tool);
    // Agents whose MCP tool names do not follow `mcp__server__tool` (Gemini
    // CLI, Copilot CLI, Cline's `use_mcp_tool`): the parser names the server
    // and tool in attributes.
    if mcp_server.is_none() {
        if let Some(server) = span.attributes.get("mcp_server").and_then(Value::as_str) {
            mcp_server = Some(server.to_string());
            if let Some(t) = span.attributes.get("mcp_tool").and_then(Value::as_str) {
                short = t.to_string();
            }
        }
    }
    let lname = short.to_ascii_lowercase();
    let obj = json.as_ref().and_then(Value::as_object);
    let own_cwd = obj.and_then(|o| {
        ["workdir", "cwd", "working_directory", "dir_path"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    });
    let cwd: Option<String> = match (&own_cwd, cwd) {
        (Some(o), base) => Some(super::path::resolve(o, base)),
        (None, base) => base.map(str::to_string),
    };
    let mut call = ToolCall {
        tool: tool.clone(),
        mcp_server,
        actions: Vec::new(),
        cwd: own_cwd.as_ref().and(cwd.clone()),
        delegated: None,
        sends: false,
    };

    if lname == "skill" {
        if let Some(o) = obj {
            for k in ["skill", "command", "name"] {
                if let Some(n) = o.get(k).and_then(Value::as_str) {
                    call.actions.push(Action::Skill {
                        name: n.to_string(),
                    });
                    break;
                }
            }
        }
        return Some(call);
    }
    if lname == "apply_patch" || input.trim_start().starts_with("*** Begin Patch") {
        let text = match obj {
            Some(o) => o
                .get("input")
                .or_else(|| o.get("patch"))
                .and_then(Value::as_str)
                .unwrap_or(input)
                .to_string(),
            None => input.to_string(),
        };
        call.actions.extend(patch_actions(&patch_text(&text)));
        return Some(call);
    }
    if SHELL_TOOLS.contains(&lname.as_str()) {
        match obj {
            Some(o) => {
                for k in COMMAND_KEYS {
                    if let Some(v) = o.get(*k) {
                        push_shell(&mut call.actions, v, tax, cwd.as_deref());
                    }
                }
                if let Some(a) = o.get("action").and_then(Value::as_object) {
                    if let Some(v) = a.get("command") {
                        push_shell(&mut call.actions, v, tax, cwd.as_deref());
                    }
                }
            }
            None => match &json {
                Some(v @ Value::Array(_)) => push_shell(&mut call.actions, v, tax, cwd.as_deref()),
                _ if !input.trim().is_empty() => push_shell(
                    &mut call.actions,
                    &Value::String(input.to_string()),
                    tax,
                    cwd.as_deref(),
                ),
                _ => {}
            },
        }
        return Some(call);
    }
    if tax.subagent_tools.contains(&lname) {
        if let Some(o) = obj {
            let text = ["prompt", "description", "message", "task", "instructions"]
                .iter()
                .filter_map(|k| o.get(*k).and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n");
            for c in quoted_commands(&text) {
                push_shell(
                    &mut call.actions,
                    &Value::String(c.to_string()),
                    tax,
                    cwd.as_deref(),
                );
            }
            call.delegated = (!text.is_empty()).then_some(text);
        }
        return Some(call);
    }
    let is_fetch = tax.fetch_tools.contains(&lname);
    if let Some(o) = obj {
        // text-editor tools take their verb in `command`: `view` reads
        // (`str_replace_based_edit_tool`, `str_replace_editor`)
        if READ_TOOLS.contains(&lname.as_str())
            || (WRITE_TOOLS.contains(&lname.as_str())
                && o.get("command").and_then(Value::as_str) == Some("view"))
        {
            for p in paths_in(o) {
                call.actions.push(Action::Read { path: p });
            }
            return Some(call);
        }
        if WRITE_TOOLS.contains(&lname.as_str()) {
            let content = CONTENT_KEYS
                .iter()
                .filter_map(|k| o.get(*k).and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n");
            for p in paths_in(o) {
                call.actions.push(Action::Write {
                    path: p,
                    content: content.clone(),
                });
            }
            return Some(call);
        }
        if LIST_TOOLS.contains(&lname.as_str()) {
            for k in ["path", "pattern", "directory", "dir"] {
                if let Some(p) = o.get(k).and_then(Value::as_str) {
                    call.actions.push(Action::List {
                        path: p.to_string(),
                    });
                }
            }
            return Some(call);
        }
        if SEARCH_TOOLS.contains(&lname.as_str()) {
            let pattern = ["pattern", "query", "regex"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str))
                .unwrap_or_default();
            for p in paths_in(o) {
                call.actions.push(Action::Search {
                    path: p,
                    pattern: pattern.to_string(),
                });
            }
            return Some(call);
        }
        // Generic and MCP tools: read the arguments by name.
        generic(
            &mut call,
            &lname,
            &Value::Object(o.clone()),
            tax,
            0,
            is_fetch,
        );
        // A fetch tool whose URLs sit in free text (Gemini's `web_fetch` takes a `prompt`).
        if is_fetch
            && !call
                .actions
                .iter()
                .any(|a| matches!(a, Action::Fetch { .. }))
        {
            for u in super::network::urls_in(input) {
                call.actions.push(Action::Fetch { url: u });
            }
        }
    } else if is_fetch {
        for u in super::network::urls_in(input) {
            call.actions.push(Action::Fetch { url: u });
        }
    }
    Some(call)
}

/// `mcp__server__tool` → (Some(server), tool); anything else → (None, name).
pub fn split_mcp(tool: &str) -> (Option<String>, String) {
    if let Some(rest) = tool.strip_prefix("mcp__") {
        if let Some((server, t)) = rest.split_once("__") {
            return (Some(server.to_string()), t.to_string());
        }
    }
    (None, tool.to_string())
}

fn push_shell(actions: &mut Vec<Action>, v: &Value, tax: &Taxonomy, cwd: Option<&str>) {
    match v {
        Value::String(s) if !s.trim().is_empty() => actions.push(Action::Shell {
            text: s.clone(),
            script: parse_script_in(s, cwd, tax),
        }),
        Value::Array(a) => {
            let argv: Vec<String> = a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            if !argv.is_empty() {
                actions.push(Action::Shell {
                    text: argv.join(" "),
                    script: parse_argv_in(&argv, cwd, tax),
                });
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
