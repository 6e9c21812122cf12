//! `sirocco bench-spec`: drafted tokens against llama.cpp's own speculative decoding
//! (`llama-speculative-simple`, built from the same llama.cpp) on the same model, draft,
//! drafting kind, prompt, threads and greedy sampling, in one run — and each side's plain
//! decode (Sirocco without drafts; `llama-completion`) — on three tasks:
//! - edit: rewrite a given function with one change (the answer repeats most of the prompt);
//! - code: continue a source file whose next function mirrors the one before it (the FIM
//!   journey's decode: an infill request decodes the same way, only its prompt differs);
//! - chat: a free answer that repeats little.
//!
//! Both sides read the same prompt text (the model's chat format rendered by Sirocco, with its
//! special tokens written out), tokenized by the same llama.cpp code. Rounds alternate the
//! order of the sides; the first warms up and is dropped; medians are reported.
//! Decode speed: generated tokens over the time after the prompt (llama.cpp's
//! "decoded … speed"; Sirocco's `decode_tokens_per_second`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sirocco_engine::speculative::Drafting;
use sirocco_engine::{
    ChatMessage, Engine, FlashAttention, GenerateRequest, GenerationStats, LoadParams, Role, SamplingParams,
};

const EDIT: &str = "Rewrite this Python function so that it is named `total_price` instead of `sum_prices` \
and returns the value rounded to 2 decimals. Change nothing else; reply with the code only.\n\n```python\n\
def sum_prices(items, tax_rate, discount=None):\n    \"\"\"Adds up the items' prices with tax.\"\"\"\n    \
subtotal = 0\n    for item in items:\n        if item.quantity <= 0:\n            continue\n        \
subtotal += item.price * item.quantity\n    if discount is not None:\n        \
subtotal -= subtotal * discount\n    tax = subtotal * tax_rate\n    return subtotal + tax\n```";

const CODE: &str = "def parse_user(record):\n    \"\"\"Reads a user from a database record.\"\"\"\n    \
user = User()\n    user.id = int(record[\"id\"])\n    user.name = record[\"name\"].strip()\n    \
user.email = record[\"email\"].strip().lower()\n    user.created = parse_date(record[\"created\"])\n    \
return user\n\n\ndef parse_admin(record):\n    \"\"\"Reads an admin from a database record.\"\"\"\n    admin = Admin()\n";

const CHAT: &str = "Write a short story about a lighthouse keeper who finds a message in a bottle.";

struct Task {
    name: &'static str,
    /// The prompt as text, special tokens written out.
    prompt: String,
}

/// One side's figures for one task: decode tokens per second, tokens drafted and kept.
#[derive(Default, Clone)]
struct Run {
    decode: Vec<f64>,
    drafted: usize,
    kept: usize,
    generated: usize,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

pub struct SpecBench {
    pub model: PathBuf,
    pub drafting: Drafting,
    pub threads: u32,
    pub tokens: u32,
    pub reps: usize,
    pub llama_tools: Option<PathBuf>,
}

fn params_with(threads: u32, drafting: Drafting) -> LoadParams {
    LoadParams {
        context_length: Some(4096),
        threads: Some(threads),
        parallel: 1,
        flash_attention: FlashAttention::On,
        drafting,
        ..LoadParams::default()
    }
}

async fn engine(model: &Path, threads: u32, drafting: Drafting) -> Result<Engine, String> {
    let engine = Engine::start();
    let on = drafting.is_on();
    let loaded = engine.load(model, params_with(threads, drafting), |_| {}, Arc::new(AtomicBool::new(false))).await;
    let loaded = loaded.map_err(|e| e.to_string())?;
    if on && loaded.drafting.is_none() {
        return Err("the model loaded without drafting (see the log for why)".into());
    }
    Ok(engine)
}

async fn run_once(engine: &Engine, prompt: &str, tokens: u32) -> Result<GenerationStats, String> {
    // llama.cpp's defaults besides greedy: no repetition penalty.
    let greedy =
        SamplingParams { temperature: 0.0, repeat_penalty: 1.0, max_tokens: tokens, ..SamplingParams::default() };
    let mut generation = engine.generate(GenerateRequest::completion(prompt, greedy)).map_err(|e| e.to_string())?;
    sirocco_engine::collect(&mut generation, |_| {}).await.result().cloned()
}

struct Llama<'a> {
    dir: &'a Path,
    bench: &'a SpecBench,
}

impl Llama<'_> {
    fn run(&self, tool: &str, args: &[String]) -> Result<String, String> {
        let bin = self.dir.join(tool);
        let out = Command::new(&bin)
            .args(["-m".to_owned(), self.bench.model.to_string_lossy().into_owned()])
            .args(["-t".to_owned(), self.bench.threads.to_string(), "-c".into(), "4096".into()])
            .args(["-fa".to_owned(), "on".into(), "--temp".into(), "0".into(), "-ngl".into(), "0".into()])
            .args(args)
            .output()
            .map_err(|e| format!("could not run {}: {e}", bin.display()))?;
        let log = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!("{tool} failed: {log}"));
        }
        Ok(log)
    }

    /// llama-speculative-simple with the same drafting: (decode t/s, drafted, accepted, generated).
    fn drafted(&self, prompt: &str) -> Result<(f64, usize, usize, usize), String> {
        let d = &self.bench.drafting;
        let mut args = vec!["-p".to_owned(), prompt.to_owned(), "-n".into(), self.bench.tokens.to_string()];
        args.extend(["--spec-type".to_owned(), d.names()]);
        if let Some(model) = &d.draft_model {
            args.extend(["-md".to_owned(), model.to_string_lossy().into_owned(), "-ngld".into(), "0".into()]);
        }
        if let Some(n) = d.draft_max {
            args.extend(["--spec-draft-n-max".to_owned(), n.to_string()]);
        }
        args.extend(["--spec-draft-n-min".to_owned(), d.draft_min.to_string()]);
        args.extend(["--spec-draft-p-min".to_owned(), d.draft_p_min.to_string()]);
        let log = self.run("llama-speculative-simple", &args)?;
        let line = log.lines().find(|l| l.contains("decoded") && l.contains("speed:")).ok_or("no decode speed")?;
        let speed = line.rsplit("speed:").next().and_then(|r| r.split_whitespace().next()?.parse().ok());
        let generated = line.split("decoded").nth(1).and_then(|r| r.split_whitespace().next()?.parse().ok());
        let count = |label: &str| {
            log.lines()
                .find(|l| l.contains(label) && l.contains('='))
                .and_then(|l| l.rsplit('=').next()?.trim().parse::<usize>().ok())
        };
        Ok((
            speed.ok_or("no decode speed")?,
            count("n_drafted").ok_or("no n_drafted")?,
            count("n_accept ").ok_or("no n_accept")?,
            generated.ok_or("no decoded count")?,
        ))
    }

    /// llama-completion, greedy, the same prompt: decode t/s with sampling included (eval runs
    /// over total − prompt eval time, as `sirocco bench` reads it).
    fn plain(&self, prompt: &str) -> Result<f64, String> {
        let args = ["-p", prompt, "-n", &self.bench.tokens.to_string(), "-no-cnv"].map(str::to_owned);
        let log = self.run("llama-completion", &args)?;
        let ms = |label: &str| -> Option<f64> {
            let line = log.lines().find(|l| l.contains(&format!(" {label} time =")))?;
            line.split_once(" time =")?.1.split_whitespace().next()?.parse().ok()
        };
        let total = ms("total").ok_or("no total time in llama-completion's report")?;
        let prompt_ms = ms("prompt eval").ok_or("no prompt eval time in llama-completion's report")?;
        let runs = log
            .lines()
            .find(|l| l.contains(" eval time =") && !l.contains("prompt eval"))
            .and_then(|l| l.split_once('/')?.1.split_whitespace().next()?.parse::<f64>().ok())
            .ok_or("no eval runs in llama-completion's report")?;
        Ok(runs / ((total - prompt_ms) / 1e3))
    }
}

pub async fn run(bench: SpecBench) -> Result<(), String> {
    let plain = engine(&bench.model, bench.threads, Drafting::default()).await?;
    let drafted = engine(&bench.model, bench.threads, bench.drafting.clone()).await?;
    let chat = |text: &str| vec![ChatMessage::new(Role::User, text)];
    let mut tasks = Vec::new();
    for (name, prompt) in [("edit", Some(EDIT)), ("code", None), ("chat", Some(CHAT))] {
        let prompt = match prompt {
            Some(text) => {
                let tokens = plain.prompt_tokens(chat(text), None, None).await.map_err(|e| e.to_string())?;
                plain.detokenize(tokens, true).await.map_err(|e| e.to_string())?
            }
            None => CODE.to_owned(),
        };
        tasks.push(Task { name, prompt });
    }
    let tools = bench.llama_tools.as_deref().map(|dir| Llama { dir, bench: &bench });
    println!(
        "drafting: {} (draft model: {}), {} threads, greedy, up to {} tokens, {} rounds (+1 warm-up)",
        bench.drafting.names(),
        bench.drafting.draft_model.as_ref().map_or("none".into(), |p| p.display().to_string()),
        bench.threads,
        bench.tokens,
        bench.reps
    );
    for task in &tasks {
        let (mut ours_plain, mut ours, mut theirs, mut theirs_plain) =
            (Run::default(), Run::default(), Run::default(), Run::default());
        for round in 0..=bench.reps {
            let keep = round > 0;
            let ours_first = round % 2 == 0;
            let llama_turn = |theirs: &mut Run, theirs_plain: &mut Run| -> Result<(), String> {
                if let Some(t) = &tools {
                    let (rate, drafted, kept, generated) = t.drafted(&task.prompt)?;
                    let plain_rate = t.plain(&task.prompt)?;
                    if keep {
                        theirs.decode.push(rate);
                        theirs.drafted += drafted;
                        theirs.kept += kept;
                        theirs.generated += generated;
                        theirs_plain.decode.push(plain_rate);
                    }
                }
                Ok(())
            };
            if !ours_first {
                llama_turn(&mut theirs, &mut theirs_plain)?;
            }
            let p = run_once(&plain, &task.prompt, bench.tokens).await?;
            let d = run_once(&drafted, &task.prompt, bench.tokens).await?;
            if keep {
                ours_plain.decode.push(p.decode_tokens_per_second);
                ours.decode.push(d.decode_tokens_per_second);
                ours.drafted += d.draft_tokens;
                ours.kept += d.draft_accepted_tokens;
                ours.generated += d.generated_tokens;
            }
            if ours_first {
                llama_turn(&mut theirs, &mut theirs_plain)?;
            }
        }
        let share = |r: &Run| if r.drafted > 0 { r.kept as f64 / r.drafted as f64 } else { 0.0 };
        let (o, op) = (median(ours.decode.clone()), median(ours_plain.decode.clone()));
        println!(
            "{:<5} sirocco  plain {:7.1} t/s  drafted {:7.1} t/s  ×{:.2} of its plain  accepted {:5.1}% ({} of {} drafted, {} tokens)",
            task.name,
            op,
            o,
            o / op,
            100.0 * share(&ours),
            ours.kept,
            ours.drafted,
            ours.generated / bench.reps.max(1)
        );
        if tools.is_some() {
            let (t, tp) = (median(theirs.decode.clone()), median(theirs_plain.decode.clone()));
            println!(
                "{:<5} llama.cpp plain {:7.1} t/s  drafted {:7.1} t/s  ×{:.2} of its plain  accepted {:5.1}% ({} of {} drafted, {} tokens)",
                task.name,
                tp,
                t,
                t / tp,
                100.0 * share(&theirs),
                theirs.kept,
                theirs.drafted,
                theirs.generated / bench.reps.max(1)
            );
            println!("{:<5} ratio drafted sirocco / llama.cpp: {:.2}   plain: {:.2}", task.name, o / t, op / tp);
        }
    }
    Ok(())
}
