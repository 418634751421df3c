//! infra/template.yaml, read as data: the three functions are built and run the way the
//! deployment needs, each has a role of its own granting only what it uses, IAM grants nothing
//! on "*" (beyond CloudWatch Logs), and EventBridge may invoke each function only from its own
//! job rule (`${RulePrefix}-<job>`) and its watchdog rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_yaml::Value;

const FUNCTIONS: [&str; 3] = ["fetch-odds", "fetch-scores", "update-status"];

/// The one rule a job's function may write and be invoked by.
fn job_rule_arn(job: &str) -> String {
    format!(
        "arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/${{RulePrefix}}-{job}"
    )
}

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

/// The IAM statements of one role, with the policy each came from.
fn role_statements(role: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for p in role["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
    {
        let name = p["PolicyName"].as_str().unwrap_or("?").to_string();
        match &p["PolicyDocument"]["Statement"] {
            Value::Sequence(items) => out.extend(items.iter().map(|s| (name.clone(), s.clone()))),
            other => out.push((name, other.clone())),
        }
    }
    out
}

/// What a role grants, per action: the resources (written as the template writes them).
fn grants(role: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, s) in role_statements(role) {
        assert_eq!(s["Effect"].as_str(), Some("Allow"));
        let resources: Vec<String> = match &s["Resource"] {
            Value::Sequence(items) => items.iter().map(|r| format!("{r:?}")).collect(),
            Value::String(text) => vec![text.clone()],
            other => match intrinsic(other) {
                Some((f, arg)) if f == "Sub" => vec![arg.as_str().unwrap().to_string()],
                _ => vec![format!("{other:?}")],
            },
        };
        for action in strings(&s["Action"]) {
            out.entry(action).or_default().extend(resources.clone());
        }
    }
    out
}

#[test]
fn each_function_has_its_own_role_with_only_what_it_uses() {
    let t = template();
    let roles: BTreeMap<String, &Value> = of_type(&t, "AWS::IAM::Role").into_iter().collect();
    let mut used = BTreeSet::new();
    for job in FUNCTIONS {
        let function = &t["Resources"][format!("{}Function", pascal(job)).as_str()];
        let (f, arg) = intrinsic(&function["Properties"]["Role"]).expect("Role is a reference");
        assert_eq!(f, "GetAtt", "{job}");
        let role_id = arg
            .as_str()
            .unwrap()
            .strip_suffix(".Arn")
            .unwrap()
            .to_string();
        assert!(used.insert(role_id.clone()), "{job} shares {role_id}");
        let grants = grants(roles[&role_id]);
        let actions: BTreeSet<&str> = grants.keys().map(String::as_str).collect();
        assert_eq!(
            actions,
            BTreeSet::from([
                "events:DescribeRule",
                "events:PutRule",
                "events:PutTargets",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "secretsmanager:GetSecretValue",
                "sqs:SendMessage",
            ]),
            "{job}"
        );
        for action in ["events:PutRule", "events:PutTargets", "events:DescribeRule"] {
            assert_eq!(grants[action], [job_rule_arn(job)], "{job}: {action}");
        }
        let log_group = format!("{}LogGroup.Arn", pascal(job));
        for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
            assert_eq!(grants[action].len(), 1, "{job}: {action}");
            assert!(
                grants[action][0].contains(&log_group),
                "{job}: {action} {:?}",
                grants[action]
            );
        }
        let secrets = &grants["secretsmanager:GetSecretValue"];
        let reads_key = secrets.iter().any(|s| s.contains("ApiKeySecret"));
        let reads_url = secrets.iter().any(|s| s.contains("DatabaseUrlSecret"));
        // Every job may post alerts, and only when a webhook secret is given.
        let reads_hook = secrets
            .iter()
            .any(|s| s.contains("HasAlertWebhook") && s.contains("AlertWebhookSecretArn"));
        // update-status works on the database alone: it never sees the API key.
        assert_eq!(reads_key, job != "update-status", "{job}: {secrets:?}");
        assert!(reads_url, "{job}: {secrets:?}");
        assert!(reads_hook, "{job}: {secrets:?}");
        assert_eq!(
            secrets.len(),
            if reads_key { 3 } else { 2 },
            "{job}: {secrets:?}"
        );
    }
    assert_eq!(
        used.len(),
        roles.len(),
        "no role beyond the three: {roles:?}"
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
                let job = FUNCTIONS
                    .iter()
                    .find(|job| target == format!("{}Function", pascal(job)))
                    .unwrap_or_else(|| panic!("{id}: {target} is a job's function"));
                assert_eq!(arg.as_str(), Some(job_rule_arn(job).as_str()), "{id}");
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
        "every function can be invoked by its own job rule"
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
    // The watchdogs' own failed invocations have an alarm of their own, on all three rules.
    let watchdog = alarms
        .iter()
        .find(|(id, _)| id == "WatchdogFailuresAlarm")
        .map(|(_, a)| a)
        .expect("an alarm on the watchdogs' failures");
    let watched: Vec<String> = watchdog["Properties"]["Metrics"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|m| {
            let stat = &m["MetricStat"]["Metric"];
            (stat["MetricName"].as_str() == Some("FailedInvocations"))
                .then(|| intrinsic(&stat["Dimensions"][0]["Value"]))
                .flatten()
                .and_then(|(_, v)| v.as_str().map(str::to_string))
        })
        .collect();
    assert_eq!(
        watched,
        [
            "FetchOddsWatchdog",
            "FetchScoresWatchdog",
            "UpdateStatusWatchdog"
        ]
    );
    assert!(!watchdog["Properties"]["AlarmActions"].is_null());
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
