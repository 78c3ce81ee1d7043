//! The XML tool calls older Cline, Roo Code and Kilo Code versions write in
//! the assistant's text (`<execute_command><command>ls</command></execute_command>`),
//! and the `[tool for 'x'] Result:` blocks that answer them in the next user
//! message. Tags are matched by name only; a call cut off by the end of the
//! text keeps the parameters it has.

/// Tool tags of the XML-calling versions (Cline, then the Roo Code and Kilo Code additions).
pub const XML_TOOLS: &[&str] = &[
    "execute_command",
    "read_file",
    "write_to_file",
    "replace_in_file",
    "search_files",
    "list_files",
    "list_code_definition_names",
    "browser_action",
    "use_mcp_tool",
    "access_mcp_resource",
    "ask_followup_question",
    "attempt_completion",
    "plan_mode_respond",
    "new_task",
    "load_mcp_documentation",
    "web_fetch",
    "web_search",
    "new_rule",
    "condense",
    "summarize_task",
    "report_bug",
    "apply_diff",
    "insert_content",
    "search_and_replace",
    "codebase_search",
    "fetch_instructions",
    "switch_mode",
    "update_todo_list",
    "run_slash_command",
    "generate_image",
];

/// One XML tool call: its tag and parameters (name → text), in order.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlCall {
    pub name: String,
    pub params: Vec<(String, String)>,
}

/// The `<name>` tag opening at `s[at..]`, when `s[at] == '<'`: (name, end of the tag).
fn open_tag(s: &str, at: usize) -> Option<(&str, usize)> {
    let rest = s.get(at + 1..)?;
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
        .count();
    (len > 0 && rest.as_bytes().get(len) == Some(&b'>')).then(|| (&rest[..len], at + len + 2))
}

/// Every known tool call in `text`, in order.
pub fn calls(text: &str) -> Vec<XmlCall> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find('<') {
        let at = i + off;
        match open_tag(text, at) {
            Some((name, body)) if XML_TOOLS.contains(&name) => {
                let close = format!("</{name}>");
                let (inner, next) = match text[body..].find(&close) {
                    Some(e) => (&text[body..body + e], body + e + close.len()),
                    None => (&text[body..], text.len()),
                };
                out.push(XmlCall {
                    name: name.to_owned(),
                    params: params(inner),
                });
                i = next;
            }
            _ => i = at + 1,
        }
    }
    out
}

/// The `<param>value</param>` children of a call (values trimmed of the newlines around them).
fn params(inner: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = inner[i..].find('<') {
        let at = i + off;
        let Some((name, body)) = open_tag(inner, at) else {
            i = at + 1;
            continue;
        };
        let close = format!("</{name}>");
        let (value, next) = match inner[body..].find(&close) {
            Some(e) => (&inner[body..body + e], body + e + close.len()),
            None => (&inner[body..], inner.len()),
        };
        out.push((name.to_owned(), value.trim_matches('\n').to_owned()));
        i = next;
    }
    out
}

/// The tool named by a result header (`[read_file for 'a.rs'] Result:` → `read_file`),
/// and the text after the header on the same block.
pub fn result_header(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix('[')?;
    // The argument quoted in the header may hold `]` (a regex, a Next.js
    // route), so the header ends at the first `] Result:`.
    let end = rest.find("] Result:")?;
    let after = &rest[end + "] Result:".len()..];
    let name = rest[..end].split([' ', '\n']).next()?;
    (!name.is_empty()).then(|| (name, after.trim_start_matches('\n')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_header_whose_argument_holds_brackets_and_quotes() {
        let t = "[search_files for 'from ['\"]@/lib/x['\"]'] Result:\nFound 4 results.";
        assert_eq!(result_header(t), Some(("search_files", "Found 4 results.")));
        let t = "[write_to_file for 'src\\app\\api\\auth\\[...nextauth]\\route.ts'] Result:\nok";
        assert_eq!(result_header(t), Some(("write_to_file", "ok")));
        assert_eq!(
            result_header("[subagents] Result:\nTotal: 5"),
            Some(("subagents", "Total: 5"))
        );
        assert_eq!(result_header("[not a header] and text"), None);
    }

    #[test]
    fn calls_and_params_in_assistant_text() {
        let t = "I'll look.\n<thinking>plan</thinking>\n<execute_command>\n<command>cat ~/.aws/credentials</command>\n<requires_approval>false</requires_approval>\n</execute_command>\n<read_file><path>a.rs</path>";
        let c = calls(t);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].name, "execute_command");
        assert_eq!(
            c[0].params,
            vec![
                ("command".into(), "cat ~/.aws/credentials".into()),
                ("requires_approval".into(), "false".into())
            ]
        );
        assert_eq!(c[1].params, vec![("path".into(), "a.rs".into())]);
        assert!(calls("<b>bold</b> <nope>").is_empty());
    }

    #[test]
    fn result_headers() {
        assert_eq!(
            result_header("[execute_command for 'ls -la'] Result:\nok"),
            Some(("execute_command", "ok"))
        );
        assert_eq!(
            result_header("[attempt_completion] Result:"),
            Some(("attempt_completion", ""))
        );
        assert_eq!(result_header("[not a header"), None);
    }
}
