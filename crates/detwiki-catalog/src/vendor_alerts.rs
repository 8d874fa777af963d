//! Rules that only forward a vendor's own alerts (PRODUCT.md §2 item 3): a KQL query over
//! `SecurityAlert`/`AlertInfo`/`AlertEvidence`, an Elastic "external alerts" promotion rule, a
//! Sigma rule over a product's alert log. They stay searchable, but they detect nothing over
//! telemetry themselves, so ATT&CK coverage and browse counts leave them out.

use detwiki_ir::{Family, Rule};

use crate::QueryAnalysis;

/// KQL tables that hold alerts raised by products, not telemetry.
const KQL_ALERT_TABLES: &[&str] =
    &["securityalert", "alertinfo", "alertevidence", "securityincident", "devicealertevents", "alertevents"];

/// Sigma log sources that are a product's alert log: antivirus detections, Microsoft 365 threat
/// management and threat detection alerts.
const SIGMA_ALERT_CATEGORIES: &[&str] = &["antivirus"];
const SIGMA_ALERT_SERVICES: &[&str] = &["threat_management", "threat_detection"];

/// Why the rule only forwards a vendor's alerts, or `None` when it reads telemetry.
pub fn vendor_alert_reason(rule: &Rule, analyses: &[QueryAnalysis]) -> Option<String> {
    match rule.family {
        Family::Kusto => kql_reason(analyses),
        Family::Sigma => sigma_reason(analyses),
        Family::Elastic => elastic_reason(rule),
        Family::Splunk | Family::Yaral => None,
    }
}

fn kql_reason(analyses: &[QueryAnalysis]) -> Option<String> {
    let mut names: Vec<&str> = Vec::new();
    for entry in analyses {
        for dataset in &entry.analysis.datasets {
            if !KQL_ALERT_TABLES.contains(&dataset.name.to_ascii_lowercase().as_str()) {
                return None;
            }
            if !names.contains(&dataset.name.as_str()) {
                names.push(&dataset.name);
            }
        }
    }
    (!names.is_empty()).then(|| format!("reads only alert tables ({})", names.join(", ")))
}

fn sigma_reason(analyses: &[QueryAnalysis]) -> Option<String> {
    let mut any = false;
    for entry in analyses {
        for dataset in &entry.analysis.datasets {
            let attribute = |key: &str| dataset.attributes.get(key).map(|value| value.to_ascii_lowercase());
            let category = attribute("category");
            let service = attribute("service");
            let alert_log = category.as_deref().is_some_and(|value| SIGMA_ALERT_CATEGORIES.contains(&value))
                || service.as_deref().is_some_and(|value| SIGMA_ALERT_SERVICES.contains(&value));
            if !alert_log {
                return None;
            }
            any = true;
        }
    }
    any.then(|| "reads only a product's alert log".to_owned())
}

/// Elastic promotion rules turn alerts of other products into Elastic alerts: their query selects
/// `event.kind: alert` and their tags say "Promotion".
fn elastic_reason(rule: &Rule) -> Option<String> {
    let extra_tags = rule.metadata.extra.get("tags").and_then(serde_json::Value::as_array);
    let promotion_tag = rule
        .metadata
        .tags
        .iter()
        .map(String::as_str)
        .chain(extra_tags.into_iter().flatten().filter_map(serde_json::Value::as_str))
        .any(|tag| tag.to_ascii_lowercase().contains("promotion"));
    let alert_query = rule.queries.iter().any(|query| {
        let compact: String = query.text.chars().filter(|c| !c.is_whitespace() && *c != '"').collect();
        let compact = compact.to_ascii_lowercase();
        compact.contains("event.kind:alert") || compact.contains("event.kind==alert")
    });
    let external =
        rule.metadata.title.as_deref().is_some_and(|title| title.to_ascii_lowercase().contains("external alert"));
    (alert_query && (promotion_tag || external))
        .then(|| "promotes alerts of other products (event.kind: alert)".to_owned())
}
