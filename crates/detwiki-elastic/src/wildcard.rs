//! Values with wildcards, shared by kuery and Lucene: a decoded value is a list of pieces (text
//! or a wildcard), so an escaped `\*` stays a literal asterisk while a bare `*` matches anything.
//!
//! Lowering follows PRODUCT.md §5: `*x*`, `x*` and `*x` become `contains`, `starts_with` and
//! `ends_with` of `x`; `*` alone means the field exists; any other wildcard pattern stays a
//! `wildcard` predicate whose value escapes literal `*`, `?` and `\` with a backslash (the Sigma
//! convention the catalog reads).

use detwiki_ir::Op;

/// One piece of a decoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// `*`: any run of characters.
    Any,
    /// `?`: one character (Lucene only; in kuery `?` is an ordinary character).
    One,
}

/// Appends a character to the last text piece, or starts one.
pub fn push_char(pieces: &mut Vec<Piece>, character: char) {
    match pieces.last_mut() {
        Some(Piece::Text(text)) => text.push(character),
        _ => pieces.push(Piece::Text(character.to_string())),
    }
}

/// The value as one string with wildcards written as `*` and `?` and nothing escaped: what the
/// reference parsers print, and what pages show as written.
pub fn display(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Any => out.push('*'),
            Piece::One => out.push('?'),
        }
    }
    out
}

pub fn has_wildcard(pieces: &[Piece]) -> bool {
    pieces.iter().any(|piece| !matches!(piece, Piece::Text(_)))
}

/// The operator and value text a value with pieces means.
pub fn lower(pieces: &[Piece]) -> (Op, String) {
    if !has_wildcard(pieces) {
        return (Op::Eq, display(pieces));
    }
    if pieces.iter().all(|piece| *piece == Piece::Any) {
        return (Op::IsNotNull, String::new());
    }
    let leading = pieces.first() == Some(&Piece::Any);
    let trailing = pieces.len() > 1 && pieces.last() == Some(&Piece::Any);
    let inner = &pieces[usize::from(leading)..pieces.len() - usize::from(trailing)];
    if let [Piece::Text(text)] = inner {
        let op = match (leading, trailing) {
            (true, true) => Op::Contains,
            (true, false) => Op::EndsWith,
            _ => Op::StartsWith,
        };
        return (op, text.clone());
    }
    let mut pattern = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => {
                for character in text.chars() {
                    if matches!(character, '*' | '?' | '\\') {
                        pattern.push('\\');
                    }
                    pattern.push(character);
                }
            }
            Piece::Any => pattern.push('*'),
            Piece::One => pattern.push('?'),
        }
    }
    (Op::Wildcard, pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Piece {
        Piece::Text(value.to_owned())
    }

    #[test]
    fn wildcard_shapes() {
        assert_eq!(lower(&[text("a")]), (Op::Eq, "a".to_owned()));
        assert_eq!(lower(&[Piece::Any, text("a"), Piece::Any]), (Op::Contains, "a".to_owned()));
        assert_eq!(lower(&[text("a"), Piece::Any]), (Op::StartsWith, "a".to_owned()));
        assert_eq!(lower(&[Piece::Any, text("a")]), (Op::EndsWith, "a".to_owned()));
        assert_eq!(lower(&[Piece::Any]), (Op::IsNotNull, String::new()));
        assert_eq!(lower(&[text("a"), Piece::Any, text("b*")]), (Op::Wildcard, "a*b\\*".to_owned()));
        assert_eq!(lower(&[text("a"), Piece::One]), (Op::Wildcard, "a?".to_owned()));
    }
}
