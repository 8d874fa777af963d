//! ATT&CK Navigator layers (layer format 4.5) of technique coverage: one technique entry per
//! covered technique, scored by the number of rules (or, with a telemetry profile, of rules that
//! can fire), with a gradient from zero to the highest score.

use detwiki_catalog::TechniqueCoverage;
use serde_json::{Value, json};

/// The layer format and the Navigator release it is written for.
pub const LAYER_VERSION: &str = "4.5";
pub const NAVIGATOR_VERSION: &str = "5.1.0";

/// A Navigator layer of `techniques` (those with a score of zero are left out); `attack_release`
/// is the ATT&CK major version (`19`).
pub fn navigator_layer(name: &str, description: &str, attack_release: &str, techniques: &[TechniqueCoverage]) -> Value {
    let covered: Vec<&TechniqueCoverage> = techniques.iter().filter(|technique| technique.score() > 0).collect();
    let max_score = covered.iter().map(|technique| technique.score()).max().unwrap_or(0).max(1);
    let entries: Vec<Value> = covered
        .iter()
        .map(|technique| {
            let comment = match (technique.fire_full, technique.fire_partial) {
                (Some(full), Some(partial)) => format!(
                    "{} rule(s): {full} can fire fully, {partial} partly with this telemetry",
                    technique.rules.len()
                ),
                _ => format!("{} rule(s)", technique.rules.len()),
            };
            let has_covered_children = covered
                .iter()
                .any(|other| other.id.strip_prefix(technique.id.as_str()).is_some_and(|rest| rest.starts_with('.')));
            json!({
                "techniqueID": technique.id,
                "score": technique.score(),
                "comment": comment,
                "enabled": true,
                "showSubtechniques": has_covered_children,
            })
        })
        .collect();
    let major = attack_release.split('.').next().unwrap_or(attack_release);
    json!({
        "name": name,
        "versions": { "attack": major, "navigator": NAVIGATOR_VERSION, "layer": LAYER_VERSION },
        "domain": "enterprise-attack",
        "description": description,
        "sorting": 3,
        "layout": {
            "layout": "side",
            "aggregateFunction": "average",
            "showID": true,
            "showName": true,
            "showAggregateScores": false,
            "countUnscored": false,
        },
        "hideDisabled": false,
        "techniques": entries,
        "gradient": { "colors": ["#ffffffff", "#66b1ffff"], "minValue": 0, "maxValue": max_score },
        "legendItems": [],
        "metadata": [],
        "links": [],
        "showTacticRowBackground": false,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
        "selectVisibleTechniques": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn technique(id: &str, rules: usize) -> TechniqueCoverage {
        TechniqueCoverage {
            id: id.to_owned(),
            name: String::new(),
            tactics: Vec::new(),
            rules: (0..rules).map(|rule| format!("r{rule}")).collect(),
            fire_full: None,
            fire_partial: None,
        }
    }

    #[test]
    fn only_covered_techniques_are_scored() {
        let layer = navigator_layer("x", "y", "19", &[technique("T1218", 0), technique("T1218.007", 2)]);
        let entries = layer["techniques"].as_array().expect("techniques");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["techniqueID"], "T1218.007");
        assert_eq!(entries[0]["score"], 2);
        assert_eq!(layer["gradient"]["maxValue"], 2);
        assert_eq!(layer["versions"]["layer"], "4.5");
    }
}
