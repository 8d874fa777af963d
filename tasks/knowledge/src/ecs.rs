//! The ECS field list from the npm package `@elastic/ecs` (Apache-2.0): its generated flat field
//! file `generated/ecs_flat.js`, read with Node.js, gives every field's name, type and level (facts
//! only; no descriptions are taken). Each field gets the canonical name derived by the rules below
//! when the taxonomy of `data/fields.json` defines that name.
//!
//! The package is fetched with `npm pack` (the ordinary npm client) into a cache folder, or read
//! from `--ecs DIR` (an unpacked package), so the generation is reproducible from the pinned
//! version alone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use detwiki_knowledge::{Attribution, EcsField, EcsFieldData};
use serde_json::Value;

/// The pinned package (bumping it is a reviewed change of the generated list).
pub const PACKAGE: &str = "@elastic/ecs";
pub const VERSION: &str = "9.3.0";

/// How ECS field sets are named in the taxonomy: the ECS prefix, the canonical prefix, and the
/// renames of the part after the prefix (each with candidates tried in order; without a rename
/// the part's dots become underscores). Longest prefixes first.
const PREFIXES: &[(&str, &str)] = &[
    ("process.parent.user.", "parent_user_"),
    ("process.parent.", "parent_process_"),
    ("process.user.", "user_"),
    ("process.", "process_"),
    ("file.", "file_"),
    ("dll.", "module_"),
    ("source.", "src_"),
    ("destination.", "dst_"),
    ("registry.", "registry_"),
    ("user.target.", "target_user_"),
    ("user.", "user_"),
    ("url.", "url_"),
    ("http.request.", "http_"),
    ("http.response.", "http_"),
    ("host.", "host_"),
    ("network.", "network_"),
    ("email.", "email_"),
];

/// Renames of the part after the prefix; candidates are tried in order and the first canonical
/// one wins (`id` is a SID for users and a number for processes).
const RENAMES: &[(&str, &[&str])] = &[
    ("executable", &["path"]),
    ("pid", &["id"]),
    ("entity_id", &["guid"]),
    ("start", &["creation_time"]),
    ("created", &["creation_time"]),
    ("working_directory", &["current_directory"]),
    ("pe.original_file_name", &["original_file_name"]),
    ("pe.company", &["company"]),
    ("pe.product", &["product"]),
    ("pe.description", &["description"]),
    ("pe.file_version", &["file_version"]),
    ("pe.imphash", &["hash_imphash"]),
    ("code_signature.subject_name", &["signer", "signature"]),
    ("code_signature.exists", &["signed"]),
    ("code_signature.status", &["signature_status"]),
    ("domain", &["domain", "hostname"]),
    ("id", &["sid", "id"]),
    ("path", &["path", "key"]),
    ("value", &["value_name"]),
    ("data.strings", &["value_data"]),
    ("data.type", &["value_type"]),
    ("method", &["method"]),
    ("status_code", &["status"]),
    ("from.address", &["sender"]),
    ("to.address", &["recipient"]),
];

/// Whole fields whose canonical name no prefix rule gives.
const WHOLE: &[(&str, &str)] = &[
    ("@timestamp", "timestamp"),
    ("dns.question.name", "dns_query"),
    ("dns.answers.data", "dns_answer"),
    ("url.original", "url"),
    ("url.full", "url"),
    ("user_agent.original", "user_agent"),
    ("message", "message"),
];

/// The canonical field of one ECS field, if the rules give a name the taxonomy defines.
pub fn derive_canonical(name: &str, canonical: &BTreeSet<String>) -> Option<String> {
    if let Some((_, whole)) = WHOLE.iter().find(|(field, _)| *field == name) {
        return canonical.contains(*whole).then(|| (*whole).to_owned());
    }
    let (ecs_prefix, canonical_prefix) = PREFIXES.iter().find(|(prefix, _)| name.starts_with(prefix))?;
    let rest = &name[ecs_prefix.len()..];
    let candidates: Vec<String> = match RENAMES.iter().find(|(part, _)| *part == rest) {
        Some((_, renamed)) => renamed.iter().map(|part| format!("{canonical_prefix}{part}")).collect(),
        None => vec![format!("{canonical_prefix}{}", rest.replace('.', "_"))],
    };
    candidates.into_iter().find(|candidate| canonical.contains(candidate))
}

/// The folder holding the unpacked package: `explicit` when given, else a cache folder that
/// `npm pack` fills on first use.
fn package_folder(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(folder) = explicit {
        return Ok(folder.to_path_buf());
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .context("neither XDG_CACHE_HOME nor HOME is set; pass --ecs DIR")?
        .join(format!("detwiki-knowledge/ecs-{VERSION}"));
    let package = cache.join("package");
    if package.join("generated/ecs_flat.js").is_file() {
        return Ok(package);
    }
    std::fs::create_dir_all(&cache)?;
    let spec = format!("{PACKAGE}@{VERSION}");
    let status = Command::new("npm")
        .args(["pack", &spec, "--silent", "--pack-destination"])
        .arg(&cache)
        .status()
        .context("running npm (needed once to fetch the ECS package; or pass --ecs DIR)")?;
    if !status.success() {
        bail!("npm pack {spec} failed ({status})");
    }
    let tarball = cache.join(format!("elastic-ecs-{VERSION}.tgz"));
    let status = Command::new("tar").arg("xzf").arg(&tarball).arg("-C").arg(&cache).status()?;
    if !status.success() {
        bail!("unpacking {} failed ({status})", tarball.display());
    }
    Ok(package)
}

/// Reads the flat field file and derives the canonical names.
pub fn generate(explicit: Option<&Path>, canonical: &BTreeSet<String>) -> Result<EcsFieldData> {
    let package = package_folder(explicit)?;
    let flat = package.join("generated/ecs_flat.js");
    let output = Command::new("node")
        .args(["-e", "process.stdout.write(JSON.stringify(require(process.argv[1]).EcsFlat))"])
        .arg(&flat)
        .output()
        .context("running node to read the ECS flat field file")?;
    if !output.status.success() {
        bail!("node could not load {}: {}", flat.display(), String::from_utf8_lossy(&output.stderr));
    }
    let flat_fields: serde_json::Map<String, Value> =
        serde_json::from_slice(&output.stdout).context("the ECS flat field file is not a JSON object")?;
    let mut fields: Vec<EcsField> = flat_fields
        .iter()
        .map(|(name, spec)| {
            let text = |key: &str| spec.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
            EcsField {
                name: name.clone(),
                field_type: text("type"),
                level: text("level"),
                canonical: derive_canonical(name, canonical),
            }
        })
        .collect();
    fields.sort_by(|left, right| left.name.cmp(&right.name));
    Ok(EcsFieldData {
        attribution: vec![Attribution {
            source: format!("Elastic Common Schema, npm {PACKAGE} {VERSION} (generated/ecs_flat.js)"),
            license: "Apache-2.0".to_owned(),
            used_for: "ECS field names, types and levels (facts only)".to_owned(),
        }],
        version: VERSION.to_owned(),
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_rules() {
        let canonical: BTreeSet<String> = [
            "parent_process_original_file_name",
            "user_sid",
            "module_signature",
            "src_hostname",
            "grandparent_process_name",
            "dns_query",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        let derive = |name: &str| derive_canonical(name, &canonical);
        assert_eq!(
            derive("process.parent.pe.original_file_name").as_deref(),
            Some("parent_process_original_file_name")
        );
        assert_eq!(derive("user.id").as_deref(), Some("user_sid"));
        assert_eq!(derive("dll.code_signature.subject_name").as_deref(), Some("module_signature"));
        assert_eq!(derive("source.domain").as_deref(), Some("src_hostname"));
        assert_eq!(derive("dns.question.name").as_deref(), Some("dns_query"));
        // No rule reaches a name the taxonomy lacks.
        assert_eq!(derive("process.parent.title"), None);
        assert_eq!(derive("agent.name"), None);
    }
}
