//! `blink-compile-contracts`: regenerates `bridge-contracts/artifacts/` from
//! `bridge-contracts/src/**/*.sol`.
//!
//! Compiles with the repository's `tools/solc` (solcjs behind a native-solc command line)
//! through `foundry-compilers` (no network, no svm), with the settings of `foundry.toml`
//! (evm `prague`, optimizer on, no metadata hash, no CBOR metadata), and writes one
//! `<Name>.json` per contract (`abi`, `bytecode`, `deployedBytecode`, sorted keys, pretty
//! printed) plus `sources.sha256`. Re-running on unchanged inputs gives byte-identical files.
//!
//! Needs Node.js and `scripts/setup.sh`; normally run by `scripts/contracts.sh`.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    str::FromStr,
};

use blink_bridge_contracts::{
    ARTIFACTS_DIR, EVM_VERSION, OPTIMIZER_RUNS, REMAPPINGS, SOLC_VERSION, SOURCES_MANIFEST_FILE,
    solidity_sources, sources_manifest,
};
use clap::Parser;
use eyre::{WrapErr, bail, eyre};
use foundry_compilers::{
    artifacts::{
        BytecodeHash, EvmVersion, Optimizer, Remapping, Settings, SettingsMetadata, SolcInput,
        Source, Sources,
        output_selection::{FileOutputSelection, OutputSelection},
    },
    solc::{Solc, SolcLanguage},
};
use serde_json::{Map, Value};

#[derive(Debug, Parser)]
#[command(
    name = "blink-compile-contracts",
    about = "Regenerate bridge-contracts/artifacts"
)]
struct Args {
    /// Repository root (default: the checkout this binary was built from).
    #[arg(long)]
    repo_root: Option<PathBuf>,
    /// solc executable (default: <repo-root>/tools/solc).
    #[arg(long)]
    solc: Option<PathBuf>,
    /// Do not write; exit non-zero if the committed artifacts differ from a fresh build.
    #[arg(long)]
    check: bool,
}

fn main() -> eyre::Result<()> {
    let args = Args::parse();
    let root = match args.repo_root {
        Some(r) => r,
        None => blink_bridge_contracts::repo_root().to_path_buf(),
    };
    let root = root
        .canonicalize()
        .wrap_err_with(|| format!("repo root {}", root.display()))?;
    let crate_dir = root.join("bridge-contracts");
    let solc_path = args.solc.unwrap_or_else(|| root.join("tools").join("solc"));

    let files = compile(&root, &crate_dir, &solc_path)?;
    let artifacts_dir = crate_dir.join(ARTIFACTS_DIR);

    if args.check {
        let mut stale = Vec::new();
        for (name, content) in &files {
            if fs::read_to_string(artifacts_dir.join(name)).ok().as_deref() != Some(content) {
                stale.push(name.clone());
            }
        }
        for extra in existing_artifacts(&artifacts_dir)? {
            if !files.contains_key(&extra) {
                stale.push(extra);
            }
        }
        if !stale.is_empty() {
            bail!(
                "stale artifacts: {} (run scripts/contracts.sh)",
                stale.join(", ")
            );
        }
        println!("artifacts up to date ({} files)", files.len());
        return Ok(());
    }

    fs::create_dir_all(&artifacts_dir)?;
    for extra in existing_artifacts(&artifacts_dir)? {
        if !files.contains_key(&extra) {
            fs::remove_file(artifacts_dir.join(&extra))?;
            println!("removed {ARTIFACTS_DIR}/{extra}");
        }
    }
    for (name, content) in &files {
        let path = artifacts_dir.join(name);
        if fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
            fs::write(&path, content).wrap_err_with(|| format!("writing {}", path.display()))?;
            println!("wrote {ARTIFACTS_DIR}/{name}");
        }
    }
    Ok(())
}

/// Artifact files currently in `dir` that this tool owns (`*.json`, `sources.sha256`).
fn existing_artifacts(dir: &Path) -> eyre::Result<Vec<String>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") || name == SOURCES_MANIFEST_FILE {
            out.push(name);
        }
    }
    Ok(out)
}

/// Compiles every source and returns the artifact files (name -> content).
fn compile(
    root: &Path,
    crate_dir: &Path,
    solc_path: &Path,
) -> eyre::Result<BTreeMap<String, String>> {
    let mut solc = Solc::new(solc_path)
        .map_err(|e| eyre!("{e} (is Node.js installed and scripts/setup.sh run?)"))
        .wrap_err_with(|| format!("running {} --version", solc_path.display()))?;
    if solc.version_short().to_string() != SOLC_VERSION {
        bail!(
            "{} is solc {}, expected {SOLC_VERSION}",
            solc_path.display(),
            solc.version
        );
    }
    // Same import roots forge uses: the crate is the base path, node_modules is reached
    // through the remappings (`../node_modules/...`), the repo root is allowed.
    solc.base_path = Some(crate_dir.to_path_buf());
    solc.allow_paths.insert(root.to_path_buf());

    let mut sources = Sources::new();
    let mut own_units = Vec::new();
    for path in solidity_sources(crate_dir)? {
        let unit = path
            .strip_prefix(crate_dir)
            .wrap_err("source outside crate")?
            .to_str()
            .ok_or_else(|| eyre!("non UTF-8 path {}", path.display()))?
            .replace('\\', "/");
        let content =
            fs::read_to_string(&path).wrap_err_with(|| format!("reading {}", path.display()))?;
        sources.insert(PathBuf::from(&unit), Source::new(content));
        own_units.push(unit);
    }
    if own_units.is_empty() {
        bail!("no .sol files under {}", crate_dir.join("src").display());
    }

    let mut settings = Settings::new(output_selection());
    settings.optimizer = Optimizer {
        enabled: Some(true),
        runs: Some(OPTIMIZER_RUNS),
        details: None,
    };
    settings.evm_version =
        Some(EvmVersion::from_str(EVM_VERSION).map_err(|e| eyre!("evm version: {e}"))?);
    settings.metadata = Some(SettingsMetadata::new(BytecodeHash::None, false));
    settings.remappings = REMAPPINGS
        .iter()
        .map(|r| Remapping::from_str(r).map_err(|e| eyre!("remapping {r}: {e}")))
        .collect::<eyre::Result<_>>()?;
    let input = SolcInput {
        language: SolcLanguage::Solidity,
        sources,
        settings,
    };

    let raw = solc
        .compile_output(&input)
        .wrap_err("running solc --standard-json")?;
    let output: Value = serde_json::from_slice(&raw).wrap_err("parsing solc output")?;

    let mut failed = false;
    for err in output
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let msg = err
            .get("formattedMessage")
            .or_else(|| err.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("<no message>");
        eprintln!("{msg}");
        if err.get("severity").and_then(Value::as_str) == Some("error") {
            failed = true;
        }
    }
    if failed {
        bail!("compilation failed");
    }

    let contracts = output
        .get("contracts")
        .and_then(Value::as_object)
        .ok_or_else(|| eyre!("solc output has no contracts"))?;
    let mut files = BTreeMap::new();
    for unit in &own_units {
        let Some(in_unit) = contracts.get(unit).and_then(Value::as_object) else {
            continue;
        };
        for (name, contract) in in_unit {
            let evm = contract.get("evm");
            let bytecode = |key: &str| -> eyre::Result<Value> {
                let obj = evm
                    .and_then(|e| e.get(key))
                    .and_then(|b| b.get("object"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| eyre!("{unit}:{name}: no {key}"))?;
                Ok(Value::String(format!("0x{obj}")))
            };
            let abi = contract
                .get("abi")
                .cloned()
                .ok_or_else(|| eyre!("{unit}:{name}: no abi"))?;
            let mut artifact = Map::new();
            artifact.insert("abi".into(), abi);
            artifact.insert("bytecode".into(), bytecode("bytecode")?);
            artifact.insert("deployedBytecode".into(), bytecode("deployedBytecode")?);
            let file = format!("{name}.json");
            let text = format!(
                "{}\n",
                serde_json::to_string_pretty(&sorted(Value::Object(artifact)))?
            );
            if files.insert(file, text).is_some() {
                bail!("two contracts named {name}: contract names must be unique");
            }
        }
    }
    files.insert(SOURCES_MANIFEST_FILE.to_string(), sources_manifest(root)?);
    Ok(files)
}

/// `abi`, `evm.bytecode.object` and `evm.deployedBytecode.object` for every contract.
fn output_selection() -> OutputSelection {
    let per_contract: FileOutputSelection = BTreeMap::from([(
        "*".to_string(),
        vec![
            "abi".to_string(),
            "evm.bytecode.object".to_string(),
            "evm.deployedBytecode.object".to_string(),
        ],
    )]);
    OutputSelection::from(BTreeMap::from([("*".to_string(), per_contract)]))
}

/// Recursively rebuilds objects with keys in sorted order (whatever `serde_json`'s map is).
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
