//! Markdown descriptions to safe HTML.
//!
//! Descriptions are written by rule authors and are untrusted: they are rendered with
//! pulldown-cmark and then cleaned with ammonia, which drops scripts, event handlers, styles and
//! every URL scheme but the ordinary ones (so no `javascript:` link survives).

use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    // Remote images would make every reader's browser call a third party: show no images.
    builder.rm_tags(["img"]);
    builder
});

/// Renders Markdown and sanitizes the HTML.
pub fn render_markdown(text: &str) -> String {
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut unsafe_html = String::with_capacity(text.len() + text.len() / 4);
    html::push_html(&mut unsafe_html, parser);
    CLEANER.clean(&unsafe_html).to_string()
}

/// True when `url` is safe to put in an `href`: only web and mail links, checked after trimming
/// the blanks and controls browsers ignore.
pub fn is_safe_link(url: &str) -> bool {
    let url = url.trim_matches(|c: char| c.is_whitespace() || c.is_control()).to_ascii_lowercase();
    url.starts_with("https://") || url.starts_with("http://") || url.starts_with("mailto:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_javascript_links_are_removed() {
        let html = render_markdown(
            "Hello <script>alert(1)</script> [x](javascript:alert(2)) <a href=\"JaVaScRiPt:alert(3)\">y</a> **b**",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.to_ascii_lowercase().contains("javascript:"), "{html}");
        assert!(html.contains("<strong>b</strong>"), "{html}");
    }

    #[test]
    fn links_are_checked_by_scheme() {
        assert!(is_safe_link("https://attack.mitre.org/techniques/T1218/007/"));
        assert!(!is_safe_link(" javascript:alert(1)"));
        assert!(!is_safe_link("data:text/html,x"));
    }
}
