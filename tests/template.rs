//! infra/template.yaml, read as data: the three functions are built and run the way the
//! deployment needs, IAM grants nothing on "*" (beyond CloudWatch Logs), and EventBridge may only
//! invoke the functions from the job rules (`${RulePrefix}-*`) and the watchdog rules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_yaml::Value;

const JOB_RULE_ARN: &str =
    "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${RulePrefix}-*";

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    let text = std::fs::read_to_string(&path).expect("infra/template.yaml is readable");
    serde_yaml::from_str(&text).expect("infra/template.yaml is YAML")
}

fn resources(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .expect("Resources is a mapping")
        .iter()
        .map(|(k, v)| (k.as_str().expect("logical id").to_string(), v))
        .collect()
}

fn of_type<'a>(t: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .collect()
}

/// A CloudFormation intrinsic in short form (`!Sub x`) as (function, argument).
fn intrinsic(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_string(),
            &t.value,
        )),
        Value::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            let k = k.as_str()?;
            let name = k.strip_prefix("Fn::").or((k == "Ref").then_some(k))?;
            Some((name.to_string(), v))
        }
        _ => None,
    }
}

/// A property as SAM resolves it: the function's own value, else the Globals one.
fn effective<'a>(t: &'a Value, function: &'a Value, key: &str) -> &'a Value {
    let own = &function["Properties"][key];
    if own.is_null() {
        &t["Globals"]["Function"][key]
    } else {
        own
    }
}

/// Every string a value can take, looking through `!If` branches and lists.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        _ => match intrinsic(v) {
            Some((f, arg)) if f == "If" => arg
                .as_sequence()
                .map(|a| a.iter().skip(1).flat_map(strings).collect())
                .unwrap_or_default(),
            Some((f, arg)) if f == "Sub" => match arg {
                Value::Sequence(parts) => parts.first().map(strings).unwrap_or_default(),
                other => strings(other),
            },
            // A reference or attribute is a specific resource, never a wildcard.
            _ => vec![],
        },
    }
}

fn pascal(binary: &str) -> String {
    binary
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn three_functions_built_by_cargo_lambda_for_al2023_arm64() {
    let t = template();
    let functions = of_type(&t, "AWS::Serverless::Function");
    let mut binaries = BTreeSet::new();
    for (id, f) in &functions {
        assert_eq!(
            effective(&t, f, "Runtime").as_str(),
            Some("provided.al2023"),
            "{id}"
        );
        let arch: Vec<&str> = effective(&t, f, "Architectures")
            .as_sequence()
            .unwrap_or_else(|| panic!("{id}: Architectures is a list"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(arch, ["arm64"], "{id}");
        assert_eq!(
            effective(&t, f, "Handler").as_str(),
            Some("bootstrap"),
            "{id}"
        );
        assert_eq!(
            f["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{id}"
        );
        let binary = f["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: BuildProperties.Binary names the binary"));
        assert_eq!(
            *id,
            format!("{}Function", pascal(binary)),
            "{id} builds {binary}"
        );
        // The workspace root, so the three builds share one target/ directory.
        let code_uri = f["Properties"]["CodeUri"].as_str().expect("CodeUri");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../infra")
            .join(code_uri);
        let manifest =
            std::fs::read_to_string(root.join("Cargo.toml")).expect("CodeUri/Cargo.toml");
        assert!(
            manifest.contains("[workspace]"),
            "{id}: CodeUri is the workspace root"
        );
        let member =
            std::fs::read_to_string(root.join("functions").join(binary).join("Cargo.toml"))
                .unwrap_or_else(|e| panic!("{id}: functions/{binary}/Cargo.toml: {e}"));
        assert!(
            member.contains(&format!("name = \"{binary}\"")),
            "{id}: {binary} is a binary of the workspace"
        );
        assert!(binaries.insert(binary.to_string()), "{binary} built twice");
    }
    assert_eq!(
        binaries.into_iter().collect::<Vec<_>>(),
        ["fetch-odds", "fetch-scores", "update-status"]
    );
}

/// Every IAM statement in the template, with where it came from.
fn statements(t: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut document = |origin: String, doc: &Value| match &doc["Statement"] {
        Value::Sequence(items) => out.extend(items.iter().map(|s| (origin.clone(), s.clone()))),
        Value::Mapping(_) => out.push((origin, doc["Statement"].clone())),
        other => panic!("{origin}: Statement is {other:?}"),
    };
    for (id, r) in resources(t) {
        let props = &r["Properties"];
        match r["Type"].as_str() {
            Some("AWS::IAM::Role") | Some("AWS::IAM::User") | Some("AWS::IAM::Group") => {
                for p in props["Policies"].as_sequence().into_iter().flatten() {
                    document(
                        format!("{id}/{}", p["PolicyName"].as_str().unwrap_or("?")),
                        &p["PolicyDocument"],
                    );
                }
            }
            Some("AWS::IAM::Policy") | Some("AWS::IAM::ManagedPolicy") => {
                document(id.clone(), &props["PolicyDocument"]);
            }
            Some("AWS::Serverless::Function") => {
                for p in effective(t, r, "Policies")
                    .as_sequence()
                    .into_iter()
                    .flatten()
                {
                    if p.get("Statement").is_some() {
                        document(format!("{id}/Policies"), p);
                    } else if let Some(m) = p.as_mapping() {
                        // A SAM policy template: its parameters name the resource.
                        for (name, params) in m {
                            for s in strings(params) {
                                assert!(!s.contains('*'), "{id}: {name:?} on {s}");
                            }
                        }
                    } else {
                        panic!("{id}: managed policy {p:?} by name; its grants cannot be checked");
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Why a statement grants too much, if it does.
fn too_broad(statement: &Value) -> Option<String> {
    if statement.get("NotAction").is_some() || statement.get("NotResource").is_some() {
        return Some("NotAction/NotResource".into());
    }
    if statement["Effect"].as_str() != Some("Allow") {
        return None;
    }
    let actions = strings(&statement["Action"]);
    if actions.is_empty() {
        return Some("no Action".into());
    }
    if let Some(a) = actions.iter().find(|a| *a == "*" || a.ends_with(":*")) {
        return Some(format!("Action {a}"));
    }
    let resources = strings(&statement["Resource"]);
    let logs_only = actions.iter().all(|a| a.starts_with("logs:"));
    if resources.iter().any(|r| r == "*") && !logs_only {
        return Some(format!("Resource \"*\" for {actions:?}"));
    }
    None
}

#[test]
fn no_iam_statement_grants_everything() {
    let t = template();
    let all = statements(&t);
    assert!(all.len() >= 4, "the statements were found: {all:?}");
    for (origin, s) in &all {
        assert_eq!(too_broad(s), None, "{origin}: {s:?}");
    }
    // The only AWS-managed policy is the VPC one, attached only in a VPC.
    for (id, role) in of_type(&t, "AWS::IAM::Role") {
        for arn in strings(&role["Properties"]["ManagedPolicyArns"]) {
            assert!(
                arn.ends_with(":policy/service-role/AWSLambdaENIManagementAccess"),
                "{id}: managed policy {arn}"
            );
        }
    }
}

#[test]
fn the_checker_rejects_broad_statements() {
    let bad = [
        "{Effect: Allow, Action: '*', Resource: arn:aws:s3:::x}",
        "{Effect: Allow, Action: [events:PutRule], Resource: '*'}",
        "{Effect: Allow, Action: [logs:PutLogEvents, sqs:SendMessage], Resource: ['*']}",
        "{Effect: Allow, Action: events:*, Resource: arn:aws:events:::rule/x}",
        "{Effect: Allow, Action: events:PutRule, Resource: !If [c, '*', arn:aws:events:::rule/x]}",
        "{Effect: Allow, NotAction: iam:*, Resource: arn:aws:s3:::x}",
    ];
    for text in bad {
        let s: Value = serde_yaml::from_str(text).unwrap();
        assert!(too_broad(&s).is_some(), "{text} passed");
    }
    let ok: Value =
        serde_yaml::from_str("{Effect: Allow, Action: logs:CreateLogGroup, Resource: '*'}")
            .unwrap();
    assert_eq!(too_broad(&ok), None);
}

#[test]
fn functions_self_schedule_only_on_their_rule_prefix() {
    let t = template();
    let events: Vec<_> = statements(&t)
        .into_iter()
        .filter(|(_, s)| {
            strings(&s["Action"])
                .iter()
                .any(|a| a.starts_with("events:"))
        })
        .collect();
    assert!(!events.is_empty(), "an events statement exists");
    let mut granted = BTreeSet::new();
    for (origin, s) in &events {
        assert_eq!(strings(&s["Resource"]), [JOB_RULE_ARN], "{origin}");
        granted.extend(strings(&s["Action"]));
    }
    for needed in [
        "events:PutRule",
        "events:PutTargets",
        "events:DescribeRule",
        "events:DisableRule",
    ] {
        assert!(granted.contains(needed), "{needed} granted");
    }
    let secrets: Vec<_> = statements(&t)
        .into_iter()
        .filter(|(_, s)| {
            strings(&s["Action"])
                .iter()
                .any(|a| a.starts_with("secretsmanager:"))
        })
        .collect();
    assert_eq!(secrets.len(), 1, "one secrets statement");
    assert_eq!(
        strings(&secrets[0].1["Action"]),
        ["secretsmanager:GetSecretValue"]
    );
    assert!(
        secrets[0].1["Resource"]
            .as_sequence()
            .is_some_and(|r| r.len() == 2),
        "exactly the two secrets"
    );
}

#[test]
fn eventbridge_invokes_only_from_job_and_watchdog_rules() {
    let t = template();
    let functions: BTreeSet<String> = of_type(&t, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let rules: BTreeMap<String, &Value> = of_type(&t, "AWS::Events::Rule").into_iter().collect();
    let mut prefix_permission = BTreeSet::new();
    let mut watchdog_permission = BTreeSet::new();
    for (id, p) in of_type(&t, "AWS::Lambda::Permission") {
        let props = &p["Properties"];
        assert_eq!(
            props["Principal"].as_str(),
            Some("events.amazonaws.com"),
            "{id}"
        );
        assert_eq!(
            props["Action"].as_str(),
            Some("lambda:InvokeFunction"),
            "{id}"
        );
        assert!(!props["SourceAccount"].is_null(), "{id}: SourceAccount");
        let (f, target) = intrinsic(&props["FunctionName"]).expect("FunctionName is a reference");
        assert_eq!(f, "Ref", "{id}");
        let target = target.as_str().unwrap().to_string();
        assert!(
            functions.contains(&target),
            "{id}: {target} is one of the functions"
        );
        match intrinsic(&props["SourceArn"]) {
            Some((f, arg)) if f == "Sub" => {
                assert_eq!(arg.as_str(), Some(JOB_RULE_ARN), "{id}");
                prefix_permission.insert(target);
            }
            Some((f, arg)) if f == "GetAtt" => {
                let rule = arg
                    .as_str()
                    .and_then(|a| a.strip_suffix(".Arn"))
                    .expect("Rule.Arn");
                let r = rules
                    .get(rule)
                    .unwrap_or_else(|| panic!("{id}: {rule} is a rule"));
                let target_arn = &r["Properties"]["Targets"][0]["Arn"];
                assert_eq!(
                    intrinsic(target_arn).and_then(|(_, a)| a.as_str().map(str::to_string)),
                    Some(format!("{target}.Arn")),
                    "{id}: {rule} invokes {target}"
                );
                watchdog_permission.insert(target);
            }
            other => panic!("{id}: SourceArn {other:?} is neither the prefix nor a rule"),
        }
    }
    assert_eq!(
        prefix_permission, functions,
        "every function can be invoked by its job rule"
    );
    assert_eq!(
        watchdog_permission, functions,
        "every function has a watchdog"
    );

    for (id, r) in &rules {
        let props = &r["Properties"];
        let name = strings(&props["Name"]);
        assert_eq!(name.len(), 1, "{id}: a fixed name");
        assert!(
            !name[0].starts_with("${RulePrefix}-"),
            "{id}: {} collides with the job rules",
            name[0]
        );
        let schedule = match intrinsic(&props["ScheduleExpression"]) {
            Some((f, p)) if f == "Ref" => t["Parameters"][p.as_str().unwrap()]["Default"]
                .as_str()
                .unwrap()
                .to_string(),
            _ => props["ScheduleExpression"].as_str().unwrap().to_string(),
        };
        assert!(
            schedule.starts_with("rate("),
            "{id}: fixed rate, got {schedule}"
        );
        let input: serde_json::Value =
            serde_json::from_str(props["Targets"][0]["Input"].as_str().expect("Input")).unwrap();
        assert_eq!(input, serde_json::json!({"watchdog": true}), "{id}");
    }
}

#[test]
fn log_groups_have_retention_and_failures_are_kept() {
    let t = template();
    let groups = of_type(&t, "AWS::Logs::LogGroup");
    assert_eq!(groups.len(), 3);
    for (id, g) in &groups {
        assert!(
            !g["Properties"]["RetentionInDays"].is_null(),
            "{id}: retention"
        );
    }
    let config = &t["Globals"]["Function"]["EventInvokeConfig"];
    assert_eq!(
        config["DestinationConfig"]["OnFailure"]["Type"].as_str(),
        Some("SQS")
    );
    let alarms = of_type(&t, "AWS::CloudWatch::Alarm");
    for (id, f) in of_type(&t, "AWS::Serverless::Function") {
        assert!(!effective(&t, f, "EventInvokeConfig").is_null(), "{id}");
        assert!(
            alarms.iter().any(
                |(_, a)| a["Properties"]["MetricName"].as_str() == Some("Errors")
                    && intrinsic(&a["Properties"]["Dimensions"][0]["Value"])
                        .and_then(|(_, v)| v.as_str().map(str::to_string))
                        == Some(id.clone())
            ),
            "{id}: an alarm on its errors"
        );
    }
}
