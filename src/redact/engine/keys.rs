//! How field and header names compare: trimmed, lower case, `-` as `_`.

/// Lower case, `-` as `_`: how field and header names compare.
pub fn norm_key(k: &str) -> String {
    // Byte-wise: ASCII changes leave every multi-byte character as it was.
    let mut n = k.trim().to_ascii_lowercase();
    if n.contains('-') {
        n = n.replace('-', "_");
    }
    n
}

/// [`norm_key`] without a copy when `k` is already normal (trimmed, no ASCII
/// capital, no `-`): most keys of a trace are.
pub(super) fn norm_key_cow(k: &str) -> std::borrow::Cow<'_, str> {
    let t = k.trim();
    if t.bytes().any(|b| b == b'-' || b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(norm_key(t))
    } else {
        std::borrow::Cow::Borrowed(t)
    }
}

#[cfg(test)]
mod tests {
    use super::{norm_key, norm_key_cow};

    /// The definition byte-wise `norm_key` must keep: trimmed, each character
    /// lower-cased in ASCII, `-` as `_`.
    fn by_chars(k: &str) -> String {
        k.trim()
            .chars()
            .map(|c| match c {
                '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect()
    }

    #[test]
    fn matches_the_character_wise_definition() {
        for k in [
            "",
            " X-Api-Key ",
            "Authorization",
            "http.request.header.x-goog-api-key",
            "ÄPI-Schlüssel-Ω",
            "\u{a0}Token\u{2003}",
            "İ-DOTTED-ﬁ",
            "a--b__C",
            "\t\n",
            "already_normal.path",
            " trimmed.only ",
        ] {
            assert_eq!(norm_key(k), by_chars(k), "{k:?}");
            assert_eq!(norm_key_cow(k), by_chars(k), "{k:?}");
        }
    }
}
