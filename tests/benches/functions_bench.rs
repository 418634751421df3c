//! The Lambda functions as deployed: the arm64 zip size of each (from
//! `cargo lambda build --release --arm64 --output-format zip`, which `make bench` runs first),
//! and the cold start and peak memory of the native release build (`cargo build --release`).
//!
//! Cold start: the binary is started with `AWS_LAMBDA_RUNTIME_API` pointing at a fake Lambda
//! Runtime API on loopback that hands it one event; the time runs from spawn to the function's
//! response POST, so it covers process start, configuration, the pool, the first database round
//! trips, the fake Odds API calls and the JSON summary. Each run gets a fresh migrated database,
//! as a real first run would. Peak memory is the process's VmHWM read once it has responded; CPU
//! is its user and system time from the rusage of the reaped process. fetch-odds is also run on a
//! large real-world slate and on a body just under the body cap, against the function's memory.
//! Goals are reported, not asserted.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use odds_tests::TestDb;
use odds_tests::fake_api::FakeOddsApi;
use odds_tests::fixtures::slate_with_first_tip;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const FUNCTIONS: [&str; 3] = ["fetch-odds", "fetch-scores", "update-status"];
const RUNS: usize = 7;
const COLD_START_GOAL_MS: f64 = 50.0;
const PEAK_MEMORY_GOAL_MB: f64 = 40.0;
/// A cold fetch-odds process, its whole paid path included.
const FETCH_ODDS_PEAK_MEMORY_GOAL_MIB: f64 = 10.0;
const FETCH_ODDS_CPU_GOAL_MS: f64 = 10.0;
const ZIP_GOAL_MB: f64 = 10.0;
/// The functions' MemorySize in infra/template.yaml.
const FUNCTION_MEMORY_MIB: f64 = 128.0;
/// ODDS_API_MAX_BODY_MB's default.
const BODY_CAP_BYTES: usize = 2 * 1024 * 1024;

/// The fixture slate, six hours out, grown to `games` games of `books` bookmakers each (copies
/// of the fixture's books under new keys), then, with `fill_to`, given more books until its body
/// reaches that many bytes.
fn large_slate(games: usize, books: usize, fill_to: Option<usize>) -> Value {
    let base = slate_with_first_tip(Utc::now() + chrono::Duration::hours(6));
    let base = base.as_array().expect("the fixture is an array");
    let book_size = serde_json::to_vec(&base[0]["bookmakers"][0]).map_or(1, |b| b.len());
    let target_books = match fill_to {
        Some(bytes) => (bytes / games / book_size).max(books),
        None => books,
    };
    let mut slate = Vec::with_capacity(games);
    for g in 0..games {
        let mut game = base[g % base.len()].clone();
        game["id"] = json!(format!("large-{g:02}"));
        let template = game["bookmakers"][0].clone();
        let mut list = Vec::with_capacity(target_books);
        for b in 0..target_books {
            let mut book = template.clone();
            book["key"] = json!(format!("book{b:03}"));
            book["title"] = json!(format!("Book {b}"));
            list.push(book);
        }
        game["bookmakers"] = Value::Array(list);
        slate.push(game);
    }
    let mut slate = Value::Array(slate);
    // Trim whole books from the last game until the body is under the target.
    if let Some(bytes) = fill_to {
        while serde_json::to_vec(&slate).map_or(0, |b| b.len()) > bytes {
            let last = slate
                .as_array_mut()
                .and_then(|a| a.last_mut())
                .expect("a game");
            last["bookmakers"].as_array_mut().expect("books").pop();
        }
    }
    slate
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// What the fake Runtime API saw, with times relative to nothing: the caller subtracts.
#[derive(Default)]
struct Seen {
    first_next: Option<Instant>,
    response: Option<(Instant, Value)>,
    error: Option<String>,
}

/// `GET /runtime/invocation/next`: one event, then never another (the runtime blocks there
/// until it is killed, as it would while frozen).
struct Next {
    seen: Arc<Mutex<Seen>>,
    calls: Mutex<u32>,
}

impl Respond for Next {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        if *calls > 1 {
            return ResponseTemplate::new(200).set_delay(Duration::from_secs(3600));
        }
        self.seen.lock().unwrap().first_next = Some(Instant::now());
        let deadline = Utc::now().timestamp_millis() + 300_000;
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .insert_header("lambda-runtime-aws-request-id", "bench-1")
            .insert_header("lambda-runtime-deadline-ms", deadline.to_string())
            .insert_header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            // Forced, so fetch-odds does its paid work whatever the plan says.
            .set_body_json(json!({ "force": true }))
    }
}

struct Posted {
    seen: Arc<Mutex<Seen>>,
    error: bool,
}

impl Respond for Posted {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let at = Instant::now();
        let mut seen = self.seen.lock().unwrap();
        if self.error {
            seen.error = Some(String::from_utf8_lossy(&request.body).into_owned());
        } else if seen.response.is_none() {
            let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            seen.response = Some((at, body));
        }
        ResponseTemplate::new(202)
    }
}

struct Run {
    init_ms: f64,
    total_ms: f64,
    memory: Memory,
    /// User and system CPU of the whole process, from its rusage once reaped.
    cpu_ms: f64,
    summary: Value,
}

/// Reaps the (killed) child and returns the CPU it used, user and system, in milliseconds.
fn reap_cpu_ms(pid: u32) -> Option<f64> {
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct the kernel fills in; `pid` is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    (reaped == pid as libc::pid_t).then(|| {
        let ms = |t: libc::timeval| t.tv_sec as f64 * 1_000.0 + t.tv_usec as f64 / 1_000.0;
        ms(usage.ru_utime) + ms(usage.ru_stime)
    })
}

/// A process's memory from `/proc/<pid>/status`, in MiB.
struct Memory {
    /// The peak resident set (VmHWM).
    peak: f64,
    /// At the moment read: the file-backed part (the binary's and libraries' pages) and the
    /// anonymous part (heap, stacks, pages the loader wrote to).
    file: f64,
    anon: f64,
}

fn memory_mb(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some(Memory {
        peak: field("VmHWM:")?,
        file: field("RssFile:")?,
        anon: field("RssAnon:")?,
    })
}

async fn cold_start(
    db: &TestDb,
    binary: &Path,
    function: &str,
    slate: &Value,
) -> Result<Run, String> {
    // Every run starts from an empty collector on a server that has seen the database before,
    // as a deployed function's does; a brand-new database would add the server's own catalog
    // warm-up (about 40 ms here) to the first connection.
    db.client()
        .await
        .batch_execute(
            "TRUNCATE events, odds_snapshots, odds, data_quality_logs, fetch_logs, job_state, job_runs",
        )
        .await
        .map_err(|e| format!("cannot empty the database: {e}"))?;
    let api = FakeOddsApi::start().await;
    api.serve_slate(slate).await;
    let runtime_api = MockServer::start().await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    Mock::given(method("GET"))
        .and(path("/2018-06-01/runtime/invocation/next"))
        .respond_with(Next {
            seen: Arc::clone(&seen),
            calls: Mutex::new(0),
        })
        .mount(&runtime_api)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/2018-06-01/runtime/invocation/[^/]+/response$",
        ))
        .respond_with(Posted {
            seen: Arc::clone(&seen),
            error: false,
        })
        .mount(&runtime_api)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/2018-06-01/runtime/(invocation/[^/]+|init)/error$",
        ))
        .respond_with(Posted {
            seen: Arc::clone(&seen),
            error: true,
        })
        .mount(&runtime_api)
        .await;

    let address = runtime_api.address().to_string();
    let log = tempfile_in_target()?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("DATABASE_URL", db.url.expose())
        .env("ODDS_API_KEY", "benchbenchbenchbenchbenchbench00")
        .env("ODDS_API_BASE_URL", api.url())
        .env("NBA_CDN_BASE_URL", api.url())
        .env("NBA_STATS_BASE_URL", api.url())
        .env("SCHEDULER_BACKEND", "aws")
        .env("SCHEDULER_DRY_RUN", "true")
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        // A file, not a pipe: a run that logs a lot (the large bodies' warnings) must not block
        // on a pipe nobody reads until it ends.
        .stderr(Stdio::from(
            log.reopen()
                .map_err(|e| format!("cannot open the log file: {e}"))?,
        ))
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let pid = child.id();

    let deadline = started + Duration::from_secs(60);
    let outcome = loop {
        {
            let seen = seen.lock().unwrap();
            if let Some(error) = &seen.error {
                break Err(format!("{function} reported an error: {error}"));
            }
            if let Some((at, body)) = &seen.response {
                let init = seen.first_next.unwrap_or(*at);
                break Ok((init, *at, body.clone()));
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!("{function} exited early with {status}"));
        }
        if Instant::now() > deadline {
            break Err(format!("{function} did not respond within 60 s"));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let memory = memory_mb(pid);
    let _ = child.kill();
    let cpu_ms = reap_cpu_ms(pid);
    let (init, responded, summary) = outcome.map_err(|e| {
        let stderr = std::fs::read_to_string(log.path()).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        format!(
            "{e}\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    })?;
    Ok(Run {
        init_ms: (init - started).as_secs_f64() * 1_000.0,
        total_ms: (responded - started).as_secs_f64() * 1_000.0,
        memory: memory.ok_or("no /proc/<pid>/status to read VmHWM from")?,
        cpu_ms: cpu_ms.ok_or("the process could not be reaped for its CPU time")?,
        summary,
    })
}

/// A scratch file for a run's log, removed when dropped.
struct LogFile(PathBuf);

impl LogFile {
    fn path(&self) -> &Path {
        &self.0
    }

    fn reopen(&self) -> std::io::Result<std::fs::File> {
        std::fs::File::create(&self.0)
    }
}

impl Drop for LogFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn tempfile_in_target() -> Result<LogFile, String> {
    let dir = target_dir().join("bench-logs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(LogFile(dir.join(format!(
        "run-{}-{}.log",
        std::process::id(),
        rand_suffix()
    ))))
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn median_and_spread(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
    )
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT MET" }
}

#[tokio::main]
async fn main() {
    let target = target_dir();
    let mut failures = 0;

    println!("zip size (arm64, cargo lambda build --release --arm64 --output-format zip)");
    for function in FUNCTIONS {
        let zip = target.join("lambda").join(function).join("bootstrap.zip");
        match std::fs::metadata(&zip) {
            Ok(meta) => {
                let mb = meta.len() as f64 / 1_048_576.0;
                println!(
                    "  {function:<14} {mb:>6.2} MB ({} bytes)  goal <= {ZIP_GOAL_MB} MB: {}",
                    meta.len(),
                    verdict(mb <= ZIP_GOAL_MB)
                );
            }
            Err(e) => {
                failures += 1;
                println!("  {function:<14} missing {} ({e})", zip.display());
            }
        }
    }

    // The machine may be shared: the load says how much the timings can be trusted.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\nload average before the runs: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "cold start and peak memory (native release build, {RUNS} runs each, emptied database per run)"
    );
    let db = TestDb::new().await;
    for function in FUNCTIONS {
        let binary = target.join("release").join(function);
        let mut runs = Vec::new();
        for _ in 0..RUNS {
            // A game six hours out: fetch-odds does its full paid path (events, odds, store).
            let slate = slate_with_first_tip(Utc::now() + chrono::Duration::hours(6));
            match cold_start(&db, &binary, function, &slate).await {
                Ok(run) => runs.push(run),
                Err(e) => {
                    failures += 1;
                    println!("  {function}: {e}");
                    break;
                }
            }
        }
        let Some(last) = runs.last() else { continue };
        let outcome = last.summary["outcome"].as_str().unwrap_or("?").to_string();
        let executed = last.summary["executed"].as_bool().unwrap_or(false);
        let (init, init_min, init_max) =
            median_and_spread(runs.iter().map(|r| r.init_ms).collect());
        let (total, min, max) = median_and_spread(runs.iter().map(|r| r.total_ms).collect());
        let (job, job_min, job_max) = median_and_spread(
            runs.iter()
                .map(|r| r.summary["duration_ms"].as_f64().unwrap_or(f64::NAN))
                .collect(),
        );
        let (peak, peak_min, peak_max) =
            median_and_spread(runs.iter().map(|r| r.memory.peak).collect());
        let (file, _, _) = median_and_spread(runs.iter().map(|r| r.memory.file).collect());
        let (anon, _, _) = median_and_spread(runs.iter().map(|r| r.memory.anon).collect());
        let (cpu, cpu_min, cpu_max) = median_and_spread(runs.iter().map(|r| r.cpu_ms).collect());
        let (memory_goal, cpu_goal) = if function == "fetch-odds" {
            (
                FETCH_ODDS_PEAK_MEMORY_GOAL_MIB,
                Some(FETCH_ODDS_CPU_GOAL_MS),
            )
        } else {
            (PEAK_MEMORY_GOAL_MB, None)
        };
        println!("  {function} (outcome {outcome}, executed {executed})");
        println!(
            "    start to first response  median {total:>7.1} ms (min {min:.1}, max {max:.1})  goal <= {COLD_START_GOAL_MS} ms: {}",
            verdict(total <= COLD_START_GOAL_MS)
        );
        println!(
            "    of which init (to /next)  median {init:>7.1} ms (min {init_min:.1}, max {init_max:.1})"
        );
        println!(
            "    of which the job itself   median {job:>7.1} ms (min {job_min:.1}, max {job_max:.1}; its own duration_ms)"
        );
        println!(
            "    peak memory (VmHWM)       median {peak:>7.1} MiB (min {peak_min:.1}, max {peak_max:.1})  goal <= {memory_goal} MiB: {}",
            verdict(peak_max <= memory_goal)
        );
        println!(
            "      resident at the response  {file:>7.1} MiB file-backed (binary, libraries), {anon:.1} MiB anonymous (heap, stacks)"
        );
        let cpu_verdict = cpu_goal.map_or(String::new(), |goal| {
            format!("  goal <= {goal} ms: {}", verdict(cpu <= goal))
        });
        println!(
            "    CPU, user + system        median {cpu:>7.1} ms (min {cpu_min:.1}, max {cpu_max:.1}){cpu_verdict}"
        );
    }
    println!(
        "fetch-odds on large bodies (peak memory against the function's {FUNCTION_MEMORY_MIB} MiB)"
    );
    let binary = target.join("release").join("fetch-odds");
    for (label, slate) in [
        (
            "15 games x 24 books, featured markets",
            large_slate(15, 24, None),
        ),
        (
            "a body just under the 2 MiB cap",
            large_slate(15, 24, Some(BODY_CAP_BYTES - 64 * 1024)),
        ),
    ] {
        let bytes = serde_json::to_vec(&slate).map_or(0, |b| b.len());
        match cold_start(&db, &binary, "fetch-odds", &slate).await {
            Ok(run) => println!(
                "  {label:<40} body {:>5.2} MiB  peak {:>6.1} MiB  stored {}  goal <= {FUNCTION_MEMORY_MIB} MiB: {}",
                bytes as f64 / 1_048_576.0,
                run.memory.peak,
                run.summary["snapshots_stored"],
                verdict(run.memory.peak <= FUNCTION_MEMORY_MIB)
            ),
            Err(e) => {
                failures += 1;
                println!("  {label}: {e}");
            }
        }
    }
    if failures > 0 {
        eprintln!("{failures} measurement(s) could not be taken");
        std::process::exit(1);
    }
}
