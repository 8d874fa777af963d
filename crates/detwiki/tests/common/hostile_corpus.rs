//! Rules whose text tries to run script in a reader's browser: titles, descriptions, references,
//! authors and bodies carrying `<script>`, `onerror=`/`onload=` handlers and `javascript:` links,
//! in the Markdown KQL, Sigma and Elastic TOML formats. `hostile.rs` checks the written pages for
//! escaping; the browser test opens them and checks that nothing ran.
//!
//! Every payload either calls `alert` (a dialog the browser reports) or sets the sentinel
//! `window.__pwned` or the document title to one containing `pwned`, so that a payload that
//! runs is seen even when it opens no dialog.

use std::path::Path;

/// A Markdown KQL rule (the Sentinel/Defender community layout).
pub const SCRIPT_MARKDOWN: &str = r###"# <script>alert("title")</script> Hostile title <img src=x onerror="window.__pwned='md-title'">

#### Description

Click <a href="javascript:alert(1)">here</a> or [there](javascript:alert(2)) or [again]( JaVaScRiPt:alert(3) ).
<script>alert("description")</script>
<img src=x onerror="alert(4)">
<svg onload="window.__pwned='md-svg'"></svg>
<iframe src="javascript:window.__pwned='md-iframe'"></iframe>
<a href="&#106;avascript:window.__pwned='md-entity'">encoded</a>
<style>body { display: none }</style>
<form action="javascript:window.__pwned='md-form'"><button>go</button></form>

#### References

- javascript:alert(5)
- [reference](javascript:window.__pwned='md-reference')
- <a href="jav&#x09;ascript:document.title='pwned'">tabbed</a>

```kql
DeviceProcessEvents
| where ProcessCommandLine has "<script>alert(6)</script>"
| where FileName == "</code></pre><script>window.__pwned='md-body'</script>"
```
"###;

/// A Sigma rule with payloads in every text field the page shows.
pub const SCRIPT_SIGMA: &str = r###"title: <script>alert("sigma")</script>
id: 11111111-2222-4333-8444-555555555555
status: test
description: 'A <script>alert(7)</script> description with [a link](javascript:alert(8)) and <img src=x onerror="window.__pwned=1">'
references:
    - javascript:alert(9)
    - 'javascript:document.title="pwned"'
    - '"><script>window.__pwned="sigma-reference"</script>'
author: <b onmouseover="alert(10)">someone</b>
tags:
    - '"><svg onload="window.__pwned=2">'
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        CommandLine|contains: '<script>'
        Image|endswith: '</code></pre><img src=x onerror="window.__pwned=3">'
    condition: selection
falsepositives:
    - '<script>window.__pwned="falsepositive"</script>'
level: high
"###;

/// An Elastic TOML rule: its description, note and query are shown on the page.
pub const SCRIPT_ELASTIC: &str = r###"[metadata]
creation_date = "2026/01/21"
maturity = "production"
updated_date = "2026/01/21"

[rule]
author = ["<script>window.__pwned='elastic-author'</script>"]
description = "An <img src=x onerror=\"window.__pwned='elastic-description'\"> description."
from = "now-9m"
index = ["logs-endpoint.events.process-*"]
language = "kuery"
license = "Apache-2.0"
name = "<svg onload=\"document.title='pwned'\"> Hostile Elastic rule"
note = """## Triage
<script>window.__pwned='elastic-note'</script>
[open](javascript:window.__pwned='elastic-note-link')
"""
references = ["javascript:window.__pwned='elastic-reference'", "https://example.com/\"><script>alert(11)</script>"]
risk_score = 47
rule_id = "d8f5c4e3-2b1a-4f0e-9d8c-7b6a5f4e3d99"
severity = "medium"
tags = ["<img src=x onerror=\"window.__pwned='elastic-tag'\">"]
type = "query"

query = '''
event.category:process and process.name:"<script>window.__pwned='elastic-query'</script>"
'''
"###;

/// Writes the three hostile rules into `folder` (created if missing).
pub fn write_script_rules(folder: &Path) {
    std::fs::create_dir_all(folder).expect("a rules folder");
    std::fs::write(folder.join("hostile.md"), SCRIPT_MARKDOWN).expect("writable");
    std::fs::write(folder.join("hostile_sigma.yml"), SCRIPT_SIGMA).expect("writable");
    std::fs::write(folder.join("hostile_elastic.toml"), SCRIPT_ELASTIC).expect("writable");
}
