//! Markdown descriptions to safe HTML.
//!
//! Descriptions are written by rule authors and are untrusted: they are rendered with
//! pulldown-cmark and then cleaned with ammonia, which drops scripts, event handlers, styles and
//! every URL scheme but the ordinary ones (so no `javascript:` link survives).

use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

/// The sanitizer for one description. Relative links (`../other-rule.md`) point into the rule's
/// repository: with the permalink of the rule's file as `base` they are resolved against it, so
/// they open the file at the same commit; without a base they are removed rather than left to
/// break inside the site.
fn cleaner(base: Option<&str>) -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    // Remote images would make every reader's browser call a third party: show no images.
    builder.rm_tags(["img"]);
    let base = base.filter(|base| is_safe_link(base)).and_then(|base| ammonia::Url::parse(base).ok());
    builder.url_relative(match base {
        Some(base) => ammonia::UrlRelative::RewriteWithBase(base),
        None => ammonia::UrlRelative::Deny,
    });
    builder
}

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| cleaner(None));

/// Renders Markdown and sanitizes the HTML. Relative links are dropped.
pub fn render_markdown(text: &str) -> String {
    render_markdown_with_base(text, None)
}

/// Renders Markdown and sanitizes the HTML, resolving relative links against `base` (the
/// permalink of the file the text comes from) when it is a web URL.
pub fn render_markdown_with_base(text: &str, base: Option<&str>) -> String {
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut unsafe_html = String::with_capacity(text.len() + text.len() / 4);
    html::push_html(&mut unsafe_html, parser);
    match base {
        Some(_) => cleaner(base).clean(&unsafe_html).to_string(),
        None => CLEANER.clean(&unsafe_html).to_string(),
    }
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
    fn relative_links_follow_the_permalink_or_go() {
        let base = "https://github.com/o/r/blob/abc123/Defender%20For%20Endpoint/Rule.md";
        let html = render_markdown_with_base("[other](../Other/Rule2.md) [abs](https://example.org/x)", Some(base));
        assert!(html.contains("href=\"https://github.com/o/r/blob/abc123/Other/Rule2.md\""), "{html}");
        assert!(html.contains("href=\"https://example.org/x\""), "{html}");
        let html = render_markdown("[other](../Other/Rule2.md)");
        assert!(!html.contains("Rule2.md\""), "{html}");
        assert!(html.contains("other"), "{html}");
    }

    #[test]
    fn links_are_checked_by_scheme() {
        assert!(is_safe_link("https://attack.mitre.org/techniques/T1218/007/"));
        assert!(!is_safe_link(" javascript:alert(1)"));
        assert!(!is_safe_link("data:text/html,x"));
    }
}
