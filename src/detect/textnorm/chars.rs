//! Character classes for [`super::normalise`]: invisible characters, Unicode
//! spaces, combining marks, styled forms of ASCII (fullwidth, mathematical,
//! circled, letterlike), ligatures and curly quotes.

/// Characters a reader never sees (tag characters are handled apart).
pub(super) fn invisible(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0100}'..='\u{E01EF}')
}

pub(super) fn unicode_space(c: char) -> bool {
    matches!(
        c,
        '\u{A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Combining marks that decorate Latin letters (accents, strike-throughs).
pub(super) fn combining(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// Fullwidth, mathematical, circled, squared and letterlike forms of ASCII
/// letters and digits: the ASCII character they stand for.
pub(super) fn styled_ascii(c: char) -> Option<char> {
    let n = c as u32;
    let from = |base: u32, first: u8| char::from_u32(first as u32 + (n - base));
    match n {
        0xFF01..=0xFF5E => char::from_u32(n - 0xFF01 + 0x21),
        0x1D400..=0x1D6A3 => {
            let k = (n - 0x1D400) % 52;
            char::from_u32(if k < 26 { 0x41 + k } else { 0x61 + k - 26 })
        }
        0x1D7CE..=0x1D7FF => char::from_u32(0x30 + (n - 0x1D7CE) % 10),
        0x24B6..=0x24CF => from(0x24B6, b'A'),
        0x24D0..=0x24E9 => from(0x24D0, b'a'),
        0x249C..=0x24B5 => from(0x249C, b'a'),
        0x1F130..=0x1F149 => from(0x1F130, b'A'),
        0x1F150..=0x1F169 => from(0x1F150, b'A'),
        0x1F170..=0x1F189 => from(0x1F170, b'A'),
        0x1F1E6..=0x1F1FF => from(0x1F1E6, b'A'),
        _ => Some(match c {
            'ℎ' => 'h',
            'ℊ' => 'g',
            'ℯ' => 'e',
            'ℴ' => 'o',
            'ℹ' => 'i',
            'ℬ' => 'B',
            'ℰ' => 'E',
            'ℱ' => 'F',
            'ℋ' | 'ℌ' | 'ℍ' => 'H',
            'ℐ' | 'ℑ' => 'I',
            'ℒ' => 'L',
            'ℳ' => 'M',
            'ℛ' | 'ℜ' | 'ℝ' => 'R',
            'ℂ' | 'ℭ' => 'C',
            'ℕ' => 'N',
            'ℙ' => 'P',
            'ℚ' => 'Q',
            'ℤ' | 'ℨ' => 'Z',
            _ => return None,
        }),
    }
}

/// Ligatures spelled out.
pub(super) fn ligature(c: char) -> Option<&'static str> {
    Some(match c {
        'ﬀ' => "ff",
        'ﬁ' => "fi",
        'ﬂ' => "fl",
        'ﬃ' => "ffi",
        'ﬄ' => "ffl",
        'ﬅ' | 'ﬆ' => "st",
        _ => return None,
    })
}

/// Curly and prime quotes as straight ones.
pub(super) fn straight_quote(c: char) -> Option<char> {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2BC}' => Some('\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => Some('"'),
        _ => None,
    }
}
