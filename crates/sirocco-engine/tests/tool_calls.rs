//! Tool calls through the real engine: Mistral's own format (a tiny model with Mistral's real
//! v3 and v7 tokenizers), a template's `<tool_call>` tags (SmolLM2 with Qwen 2.5's tool
//! template, tests/fixtures/templates) and the generic JSON format (SmolLM2), each ending as
//! calls whose names and arguments follow the tools' schemas.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde_json::json;
use sirocco_engine::FinishReason;
use sirocco_engine::{
    ChatMessage, Engine, GenerateRequest, GenerationEvent, GenerationStats, LoadParams, Role, SamplingParams, Tool,
    ToolCall, ToolChoice, ToolSpec,
};

async fn load(file: &str) -> Engine {
    load_with(file, None).await
}

/// Qwen 2.5's chat template: tools described by the template, calls in `<tool_call>` tags.
fn qwen_template() -> String {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/templates/qwen2.5-tools.jinja");
    std::fs::read_to_string(path).unwrap()
}

async fn load_with(file: &str, template: Option<String>) -> Engine {
    let engine = Engine::start();
    let params = LoadParams { context_length: Some(2048), chat_template_override: template, ..LoadParams::default() };
    engine.load(&common::fixture(file), params, |_| {}, Arc::new(AtomicBool::new(false))).await.unwrap();
    engine
}

fn tools(choice: ToolChoice) -> ToolSpec {
    ToolSpec {
        tools: vec![
            Tool {
                name: "set_unit".into(),
                description: "Sets the temperature unit".into(),
                parameters: json!({
                    "type": "object",
                    "properties": {"unit": {"enum": ["celsius", "fahrenheit"]}},
                    "required": ["unit"],
                    "additionalProperties": false,
                }),
            },
            Tool { name: "lights_off".into(), description: "Turns the lights off".into(), parameters: json!({}) },
        ],
        choice,
        parallel: false,
    }
}

fn request(choice: ToolChoice) -> GenerateRequest {
    let messages = vec![ChatMessage::new(Role::User, "Please switch the temperature unit to celsius.")];
    let sampling = SamplingParams { temperature: 0.0, max_tokens: 200, ..SamplingParams::default() };
    GenerateRequest { tools: Some(tools(choice)), ..GenerateRequest::new(messages, sampling) }
}

/// The request after the model called `set_unit` and the tool answered "done".
fn after_a_call() -> GenerateRequest {
    let mut req = request(ToolChoice::Auto);
    req.messages.push(ChatMessage {
        tool_calls: vec![ToolCall {
            id: "call_1".into(),
            name: "set_unit".into(),
            arguments: r#"{"unit":"celsius"}"#.into(),
        }],
        ..ChatMessage::new(Role::Assistant, "")
    });
    req.messages.push(ChatMessage { tool_call_id: Some("call_1".into()), ..ChatMessage::new(Role::Tool, "done") });
    req
}

/// The reply's text, its calls and its stats.
async fn run(engine: &Engine, request: GenerateRequest) -> (String, Vec<ToolCall>, GenerationStats) {
    let mut g = engine.generate(request).unwrap();
    let (mut text, mut calls) = (String::new(), Vec::new());
    loop {
        match g.events.recv().await.expect("the stream ends with Done or Error") {
            GenerationEvent::Text { text: t, .. } => text.push_str(&t),
            GenerationEvent::ToolCalls { calls: c } => {
                assert!(calls.is_empty(), "calls arrive once");
                calls = c;
            }
            GenerationEvent::Done { stats } => return (text, calls, stats),
            GenerationEvent::Reasoning { text } => panic!("unexpected reasoning: {text:?}"),
            GenerationEvent::Error { message, .. } => panic!("generation failed: {message}"),
        }
    }
}

fn assert_valid(calls: &[ToolCall], only: Option<&str>) {
    assert_eq!(calls.len(), 1, "parallel calls were not allowed: {calls:?}");
    let call = &calls[0];
    assert!(call.id.starts_with("call_") && call.id.len() == 14, "{}", call.id);
    let args: serde_json::Value = serde_json::from_str(&call.arguments).expect("arguments are JSON");
    match call.name.as_str() {
        "set_unit" => assert!(["celsius", "fahrenheit"].contains(&args["unit"].as_str().unwrap()), "{args}"),
        "lights_off" => assert_eq!(args, json!({}), "a tool without parameters takes no arguments"),
        other => panic!("a call to an unknown tool: {other}"),
    }
    if let Some(name) = only {
        assert_eq!(call.name, name);
    }
}

#[tokio::test]
async fn a_required_call_in_mistrals_format_follows_the_schema() {
    for format in ["mistral-v3.gguf", "mistral-v7-tekken.gguf"] {
        let engine = load(format).await;
        let (text, calls, stats) = run(&engine, request(ToolChoice::Required)).await;
        assert_eq!(text, "", "{format}: nothing but calls");
        assert_valid(&calls, None);
        assert_eq!(stats.finish_reason, FinishReason::ToolCalls, "{format}");
        // A named tool is the one called.
        let (_, calls, _) = run(&engine, request(ToolChoice::Function("lights_off".into()))).await;
        assert_valid(&calls, Some("lights_off"));
        // The prompt the model read ends with the call marker.
        let plain = engine
            .prompt_tokens(request(ToolChoice::Required).messages, None, Some(tools(ToolChoice::Required)))
            .await
            .unwrap();
        assert_eq!(stats.prompt_tokens, plain.len() + 1, "{format}: [TOOL_CALLS] opens the reply");
    }
}

#[tokio::test]
async fn the_generic_format_gives_calls_or_an_answer_never_raw_json() {
    let engine = load(common::SMOLLM2).await;
    let (text, calls, stats) = run(&engine, request(ToolChoice::Required)).await;
    assert_eq!(text, "");
    assert_valid(&calls, None);
    assert_eq!(stats.finish_reason, FinishReason::ToolCalls);

    let (_, calls, _) = run(&engine, request(ToolChoice::Function("set_unit".into()))).await;
    assert_valid(&calls, Some("set_unit"));

    // Auto: whichever the model chose, the client sees calls or plain text, not the envelope.
    let mut auto = request(ToolChoice::Auto);
    auto.messages = vec![ChatMessage::new(Role::User, "Say hello in one word.")];
    let (text, calls, stats) = run(&engine, auto).await;
    if calls.is_empty() {
        assert!(!text.trim_start().starts_with('{'), "the JSON envelope leaked: {text}");
        assert_eq!(stats.finish_reason, FinishReason::Stop);
    } else {
        assert_valid(&calls, None);
    }
}

#[tokio::test]
async fn a_template_with_its_own_tool_format_gets_tools_calls_and_results_its_way() {
    let engine = load_with(common::SMOLLM2, Some(qwen_template())).await;
    let (text, calls, stats) = run(&engine, request(ToolChoice::Required)).await;
    assert_eq!(text, "", "nothing but the call");
    assert_valid(&calls, None);
    assert_eq!(stats.finish_reason, FinishReason::ToolCalls);
    let (_, calls, _) = run(&engine, request(ToolChoice::Function("lights_off".into()))).await;
    assert_valid(&calls, Some("lights_off"));

    // The template writes the tools, the earlier call and its result itself.
    let req = after_a_call();
    let tokens = engine.prompt_tokens(req.messages.clone(), None, req.tools.clone()).await.unwrap();
    let prompt = engine.detokenize(tokens, true).await.unwrap();
    // As Python's json.dumps writes JSON (what the model was trained on).
    assert!(
        prompt.contains(
            r#"<tools>
{"type": "function", "function": {"name": "set_unit", "description": "Sets the temperature unit", "parameters": {"#
        ),
        "{prompt}"
    );
    assert!(
        prompt.contains("<tool_call>\n{\"name\": \"set_unit\", \"arguments\": {\"unit\": \"celsius\"}}\n</tool_call>"),
        "{prompt}"
    );
    assert!(prompt.contains("<|im_start|>user\n<tool_response>\ndone\n</tool_response><|im_end|>"), "{prompt}");
    assert!(!prompt.contains("You can call these tools"), "not the generic format: {prompt}");
    let (text, calls, _) = run(&engine, req).await;
    assert!(calls.is_empty() || !text.contains("<tool_call>"), "a tag never reaches the text: {text:?}");
}

#[tokio::test]
async fn a_conversation_with_calls_and_results_continues() {
    let engine = load(common::SMOLLM2).await;
    let req = after_a_call();
    // The model reads its earlier call as the JSON it was asked for, and the result after it.
    let tokens = engine.prompt_tokens(req.messages.clone(), None, req.tools.clone()).await.unwrap();
    let prompt = engine.detokenize(tokens, true).await.unwrap();
    let call = prompt.find(r#"{"tool_calls":[{"name":"set_unit","arguments":{"unit":"celsius"},"id":"call_1"}]}"#);
    let result = prompt.find(r#"{"tool_result":{"id":"call_1","content":"done"}}"#);
    assert!(call.is_some() && result.is_some() && call < result, "{prompt}");
    assert!(prompt.contains("You can call these tools"), "{prompt}");
    let (text, calls, stats) = run(&engine, req).await;
    assert!(stats.generated_tokens > 0);
    assert!(calls.is_empty() || text.is_empty(), "a reply is text or calls: {text:?} {calls:?}");
}

#[tokio::test]
async fn tools_and_a_reply_schema_do_not_mix() {
    let engine = load(common::SMOLLM2).await;
    let mut req = request(ToolChoice::Auto);
    req.sampling.json_schema = Some(json!({"type": "object"}));
    let mut g = engine.generate(req).unwrap();
    match g.events.recv().await {
        Some(GenerationEvent::Error { message, busy, .. }) => {
            assert!(message.contains("tools cannot be combined"), "{message}");
            assert!(!busy);
        }
        other => panic!("{other:?}"),
    }
}
