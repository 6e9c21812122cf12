//! Presets, personas, character cards, branches and export/import on real SQLite files.

use base64::Engine as _;
use sirocco_store::{
    expand_macros, parse_character_card, CardError, LoreEntry, MessageStatus, PersonaDraft, Role, Store,
};

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn builtin_presets_are_read_only_and_user_presets_are_editable() {
    let (dir, store) = store().await;
    let presets = store.presets().await.unwrap();
    let names: Vec<_> = presets.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Balanced", "Precise", "Creative", "Code", "Guardrail (Mistral safe mode)"]);
    assert!(presets.iter().all(|p| p.builtin));
    let precise = &presets[1];
    assert!(precise.params.sampling.temperature < 0.5);
    assert!(presets[4].params.system_prompt.starts_with("Always assist with care, respect, and truth."));

    // Built-ins: no edits, no deletes; duplicate instead.
    let err = store.update_preset(precise.id, "Mine", &precise.params).await.unwrap_err().to_string();
    assert!(err.contains("built in"), "{err}");
    assert!(store.delete_preset(precise.id).await.is_err());
    let copy = store.duplicate_preset(precise.id).await.unwrap();
    let mut params = store.preset(copy).await.unwrap().params;
    assert_eq!(params, precise.params);
    params.sampling.temperature = 0.33;
    params.sampling.stop = vec!["###".into()];
    params.context_length = Some(8192);
    params.kv_cache_type = Some(sirocco_types::KvCacheType::Q8_0);
    store.update_preset(copy, "Precise, mine", &params).await.unwrap();
    assert!(store.update_preset(copy, "   ", &params).await.is_err(), "a name is needed");

    // A model's default preset survives a reopen; reopening does not duplicate built-ins.
    store.set_model_preset("/models/mistral.gguf", copy).await.unwrap();
    drop(store);
    let store = Store::open(&dir.path().join("chats.db")).await.unwrap();
    assert_eq!(store.presets().await.unwrap().len(), 6);
    assert_eq!(store.model_preset("/models/mistral.gguf").await.unwrap(), Some(copy));
    let reread = store.preset(copy).await.unwrap();
    assert_eq!((reread.name.as_str(), reread.params.sampling.temperature), ("Precise, mine", 0.33));
    assert_eq!(reread.params.sampling.stop, ["###"]);
    // How the model loads on its own (the local server's on-demand loads): the preset's load
    // fields over the defaults; another model keeps the defaults.
    let base = sirocco_types::LoadParams { gpu_layers: 7, ..Default::default() };
    let own = store.model_load_params("/models/mistral.gguf", base.clone()).await.unwrap();
    assert_eq!(
        (own.context_length, own.kv_cache_type, own.gpu_layers),
        (Some(8192), sirocco_types::KvCacheType::Q8_0, 7)
    );
    let other = store.model_load_params("/models/other.gguf", base.clone()).await.unwrap();
    assert_eq!((other.context_length, other.kv_cache_type), (base.context_length, base.kv_cache_type));
    store.delete_preset(copy).await.unwrap();
    assert_eq!(store.model_preset("/models/mistral.gguf").await.unwrap(), None);
}

#[tokio::test]
async fn personas_expand_macros_and_refuse_unsafe_avatars() {
    let (_dir, store) = store().await;
    let draft = PersonaDraft {
        name: "Captain Nemo".into(),
        avatar: "🐙".into(),
        description: "{{char}} commands the Nautilus and distrusts {{USER}}.".into(),
        system_prompt: String::new(),
        greeting: "Welcome aboard, {{user}}.".into(),
        alternate_greetings: vec!["The Nautilus is diving.".into(), "Silence, {{user}}.".into()],
        example_dialogue: "<USER>: Where are we?\n<BOT>: Twenty thousand leagues down.".into(),
        lorebook: vec![LoreEntry {
            keys: vec!["Ned".into()],
            content: "Ned Land, a harpooner, distrusts {{char}}.".into(),
            ..LoreEntry::default()
        }],
    };
    let id = store.create_persona(&draft).await.unwrap();
    let persona = store.persona(id).await.unwrap();
    assert_eq!(persona.draft, draft);
    let system = persona.draft.system_message("Ada");
    assert!(system.starts_with("You are Captain Nemo."), "{system}");
    assert!(system.contains("Captain Nemo commands the Nautilus and distrusts Ada."), "{system}");
    assert!(system.contains("Ada: Where are we?\nCaptain Nemo: Twenty thousand leagues down."), "{system}");
    // The lorebook speaks only when its keyword comes up.
    assert_eq!(persona.draft.lore(&["Where are we going?"], "Ada"), None);
    assert_eq!(
        persona.draft.lore(&["Is Ned aboard?"], "Ada").as_deref(),
        Some("What you know:\nNed Land, a harpooner, distrusts Captain Nemo.")
    );
    let crowded = PersonaDraft { lorebook: vec![LoreEntry::default(); 257], ..draft.clone() };
    assert!(store.create_persona(&crowded).await.unwrap_err().to_string().contains("at most 256"));
    assert_eq!(expand_macros("{{user}} → {{char}} {{other}}", "C", "U"), "U → C {{other}}");

    for avatar in [
        "https://example.com/a.png",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "<img src=x onerror=alert(1)>",
        "data:image/png;base64,AAAA\"onerror=\"x",
    ] {
        let bad = PersonaDraft { avatar: avatar.into(), ..draft.clone() };
        let err = store.create_persona(&bad).await.unwrap_err().to_string();
        assert!(err.contains("avatar"), "{avatar}: {err}");
    }
    let many = PersonaDraft { alternate_greetings: vec!["hi".into(); 33], ..draft.clone() };
    assert!(store.create_persona(&many).await.unwrap_err().to_string().contains("at most 32"));
    let huge = PersonaDraft { description: "x".repeat(200 * 1024), ..draft.clone() };
    assert!(store.create_persona(&huge).await.unwrap_err().to_string().contains("description"));
    assert_eq!(store.personas().await.unwrap().len(), 1);
    store.delete_persona(id).await.unwrap();
    assert!(store.personas().await.unwrap().is_empty());
}

fn v2_card(name: &str, description: &str) -> serde_json::Value {
    serde_json::json!({
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": name,
            "description": description,
            "personality": "curious, precise",
            "scenario": "A lighthouse at night.",
            "first_mes": "*looks up* Oh, {{user}}! You came.",
            "mes_example": "<START>\n{{user}}: Hello\n{{char}}: The lamp needs oil.",
            "creator_notes": "Made for testing.",
            "system_prompt": "",
            "post_history_instructions": "",
            "alternate_greetings": ["Hi."],
            "character_book": {"name": "Lighthouse lore", "entries": [
                {"keys": ["lamp", "oil"], "content": "The lamp burns whale oil.", "enabled": true, "insertion_order": 10, "extensions": {}}
            ]},
            "tags": ["test"],
            "creator": "sirocco",
            "character_version": "1.0",
            "extensions": {"depth_prompt": {"prompt": "", "depth": 4}}
        }
    })
}

/// A PNG with the card in a `tEXt` chunk, the way SillyTavern writes it.
fn png_with_text(key: &str, text: &[u8]) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        out.extend(crc32(kind, data).to_be_bytes());
    }
    fn crc32(kind: &[u8], data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in kind.iter().chain(data) {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(1u32.to_be_bytes());
    ihdr.extend(1u32.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    let mut text_data = key.as_bytes().to_vec();
    text_data.push(0);
    text_data.extend(text);
    chunk(&mut png, b"tEXt", &text_data);
    // One transparent pixel, zlib-compressed (stored block).
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x05, 0x00, 0xfa, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

#[test]
fn character_cards_json_and_png() {
    let card = v2_card("Lumen", "{{char}} keeps the lighthouse.");
    let draft = parse_character_card(card.to_string().as_bytes()).unwrap();
    assert_eq!(draft.name, "Lumen");
    assert!(draft.description.starts_with("{{char}} keeps the lighthouse."));
    assert!(draft.description.contains("{{char}}'s personality: curious, precise"));
    assert!(draft.description.contains("Scenario: A lighthouse at night."));
    assert_eq!(draft.greeting, "*looks up* Oh, {{user}}! You came.");
    assert_eq!(draft.alternate_greetings, ["Hi."]);
    assert_eq!(draft.greetings(), ["*looks up* Oh, {{user}}! You came.", "Hi."]);
    assert!(draft.avatar.is_empty());
    assert_eq!(draft.lorebook.len(), 1);
    assert_eq!(draft.lorebook[0].keys, ["lamp", "oil"]);
    assert_eq!(
        draft.lore(&["Is there oil left?"], "Ada").as_deref(),
        Some("What you know:\nThe lamp burns whale oil.")
    );

    // V1: the fields at the top level.
    let v1 = serde_json::json!({"name": "Old", "description": "d", "first_mes": "hi", "mes_example": ""});
    assert_eq!(parse_character_card(v1.to_string().as_bytes()).unwrap().name, "Old");

    // PNG: the card in `chara`, the image becomes the avatar.
    let b64 = base64::engine::general_purpose::STANDARD.encode(card.to_string());
    let png = png_with_text("chara", b64.as_bytes());
    let from_png = parse_character_card(&png).unwrap();
    assert_eq!(from_png.name, "Lumen");
    assert!(from_png.avatar.starts_with("data:image/png;base64,iVBORw0KGgo"));
    assert!(from_png.validate().is_ok());
}

#[test]
fn hostile_character_cards_give_clear_errors_or_stay_inert() {
    let not_card = |bytes: &[u8]| match parse_character_card(bytes) {
        Err(CardError::NotACard(why)) => why,
        other => panic!("expected NotACard, got {other:?}"),
    };
    assert!(not_card(b"{\"name\": ").contains("not valid JSON"));
    assert!(not_card(b"[1,2,3]").contains("not a JSON object"));
    assert!(not_card(br#"{"spec":"chara_card_v2"}"#).contains("`data` is missing"));
    assert!(not_card(br#"{"spec":"chara_card_v9","data":{}}"#).contains("unknown card format"));
    assert!(not_card(br#"{"name": {"$ne": 1}}"#).contains("`name` is not text"));
    assert!(not_card(br#"{"description": "no name"}"#).contains("no name"));
    assert!(not_card(br#"{"name": "x", "character_book": {"entries": "all of them"}}"#).contains("not a list"));
    assert!(not_card(br#"{"name": "x", "character_book": {"entries": [{"keys": [{"$gt": ""}], "content": "x"}]}}"#)
        .contains("keyword is not text"));
    // PNGs: no card chunk, a chunk length past the end, a chunk that is not base64.
    assert!(not_card(&png_with_text("comment", b"hello")).contains("no character data"));
    let mut cut = png_with_text("chara", b"e30=");
    cut.truncate(40);
    assert!(not_card(&cut).contains("cut short"));
    let mut lying = png_with_text("chara", b"e30=");
    lying[33..37].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(not_card(&lying).contains("cut short"));
    assert!(not_card(&png_with_text("chara", b"%%%not base64%%%")).contains("not base64"));
    // Huge: the file, and one field.
    assert!(matches!(parse_character_card(&vec![b' '; 17 * 1024 * 1024]), Err(CardError::TooLarge(17))));
    // Alternate greetings: not a list, not text, too many.
    let with_greetings = |g: serde_json::Value| {
        let mut card = v2_card("Lumen", "d");
        card["data"]["alternate_greetings"] = g;
        parse_character_card(card.to_string().as_bytes())
    };
    assert!(matches!(with_greetings(serde_json::json!("Hi")), Err(CardError::NotACard(w)) if w.contains("not a list")));
    assert!(matches!(with_greetings(serde_json::json!([1])), Err(CardError::NotACard(w)) if w.contains("not text")));
    assert!(
        matches!(with_greetings(serde_json::json!(vec!["x"; 10_000])), Err(CardError::NotACard(w)) if w.contains("at most 32"))
    );
    assert_eq!(with_greetings(serde_json::json!(["", "  ", "Hello"])).unwrap().alternate_greetings, ["Hello"]);
    let long = v2_card("Big", &"x".repeat(150 * 1024));
    assert!(matches!(
        parse_character_card(long.to_string().as_bytes()),
        Err(CardError::FieldTooLong { ref field, kb: 150 }) if field == "description"
    ));
    // Script in a field is kept as text (the UI renders it sanitised).
    let script = v2_card("<img src=x onerror=alert(1)>", "<script>alert('pwned')</script>");
    let draft = parse_character_card(script.to_string().as_bytes()).unwrap();
    assert!(draft.description.contains("<script>alert('pwned')</script>"));
}

#[tokio::test]
async fn branch_view_counts_siblings_and_switching_follows_the_latest_answer() {
    let (_dir, store) = store().await;
    let c = store.create_conversation("Branches").await.unwrap();
    let q = store.add_message(c, None, Role::User, "Q", MessageStatus::Complete).await.unwrap();
    let a1 = store.add_message(c, Some(q), Role::Assistant, "A1", MessageStatus::Complete).await.unwrap();
    let q1 = store.add_message(c, Some(a1), Role::User, "Q1", MessageStatus::Complete).await.unwrap();
    let a2 = store.add_message(c, Some(q), Role::Assistant, "A2", MessageStatus::Complete).await.unwrap();
    let view = store.branch_view(c).await.unwrap();
    let shown: Vec<_> = view.iter().map(|m| (m.message.content.as_str(), m.sibling_index, m.sibling_count)).collect();
    assert_eq!(shown, [("Q", 1, 1), ("A2", 2, 2)]);
    // Pages of the branch: the newest first, then the ones above.
    let page = store.branch_page(c, None, 1).await.unwrap();
    assert_eq!((page.messages.len(), page.messages[0].message.id, page.has_more), (1, a2, true));
    assert_eq!((page.messages[0].sibling_index, page.messages[0].sibling_count), (2, 2));
    let older = store.branch_page(c, Some(a2), 10).await.unwrap();
    assert_eq!((older.messages.len(), older.messages[0].message.id, older.has_more), (1, q, false));
    // ‹ back to the first answer: its branch continues to Q1.
    assert_eq!(store.sibling(a2, -1).await.unwrap(), Some(a1));
    assert_eq!(store.sibling(a2, 1).await.unwrap(), None);
    assert_eq!(store.sibling(a1, -1).await.unwrap(), None);
    assert_eq!(store.show_branch_through(a1).await.unwrap(), q1);
    let shown: Vec<_> = store.branch_view(c).await.unwrap().into_iter().map(|m| m.message.content).collect();
    assert_eq!(shown, ["Q", "A1", "Q1"]);
    // Deleting A1 removes Q1 with it and shows A2.
    store.delete_message(a1).await.unwrap();
    let shown: Vec<_> = store.branch_view(c).await.unwrap().into_iter().map(|m| m.message.id).collect();
    assert_eq!(shown, [q, a2]);
    assert!(store.message(q1).await.is_err());

    // Continue an answer: the text grows in place.
    let mut stream = store.continue_message(a2).await.unwrap();
    stream.push(" and more").await.unwrap();
    stream.finish(MessageStatus::Complete).await.unwrap();
    assert_eq!(store.message(a2).await.unwrap().content, "A2 and more");
    assert!(store.continue_message(q).await.is_err(), "a question cannot be continued");
    store.set_message_stats(a2, &serde_json::json!({"generated_tokens": 3})).await.unwrap();
    assert_eq!(store.message(a2).await.unwrap().stats.unwrap()["generated_tokens"], 3);
    store.delete_message(q).await.unwrap();
    assert!(store.branch_view(c).await.unwrap().is_empty());
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn export_then_import_keeps_every_branch() {
    let (_dir, store) = store().await;
    let c = store.create_conversation("Trip").await.unwrap();
    let q = store.add_message(c, None, Role::User, "Where to?", MessageStatus::Complete).await.unwrap();
    store.add_message(c, Some(q), Role::Assistant, "Lisbon.", MessageStatus::Complete).await.unwrap();
    let a2 = store.add_message(c, Some(q), Role::Assistant, "Kyoto.", MessageStatus::Stopped).await.unwrap();
    // Editing an answer by hand makes a sibling; a question cannot be edited this way.
    let edited = store.edit_answer(a2, "Kyoto, in autumn.").await.unwrap();
    assert_eq!(store.sibling(edited, -1).await.unwrap(), Some(a2));
    assert!(store.edit_answer(q, "no").await.is_err());
    store.show_branch_through(a2).await.unwrap();
    store.set_pinned(c, true).await.unwrap();
    let md = store.export_markdown(c).await.unwrap();
    assert_eq!(md, "# Trip\n\n## User\n\nWhere to?\n\n## Assistant\n\nKyoto.\n");

    let export = store.export(&[]).await.unwrap();
    let json = serde_json::to_vec(&export).unwrap();
    let imported = store.import(&json).await.unwrap();
    assert_eq!(imported.len(), 1);
    let again = store.export(&imported).await.unwrap();
    let strip = |e: &sirocco_store::Export| {
        e.conversations[0].messages.iter().map(|m| (m.role, m.content.clone(), m.status)).collect::<Vec<_>>()
    };
    assert_eq!(strip(&again), strip(&export));
    let view: Vec<_> = store.branch_view(imported[0]).await.unwrap().into_iter().map(|m| m.message.content).collect();
    assert_eq!(view, ["Where to?", "Kyoto."], "the branch on screen is kept");
    assert!(store.conversation(imported[0]).await.unwrap().pinned);

    // Hostile files: nothing is written.
    let before = store.conversations().await.unwrap().len();
    for bad in [
        &b"not json"[..],
        br#"{"format":"other","version":1,"conversations":[]}"#,
        br#"{"format":"sirocco-conversations","version":1,"conversations":[{"title":"t","created_at":0,"current_leaf":null,
            "messages":[{"id":1,"parent":2,"role":"user","content":"a"},{"id":2,"parent":1,"role":"assistant","content":"b"}]}]}"#,
        br#"{"format":"sirocco-conversations","version":1,"conversations":[{"title":"t","created_at":0,"current_leaf":null,
            "messages":[{"id":1,"parent":null,"role":"root","content":"a"}]}]}"#,
    ] {
        let err = store.import(bad).await.unwrap_err().to_string();
        assert!(err.contains("Sirocco conversations file") || err.contains("parent"), "{err}");
    }
    assert_eq!(store.conversations().await.unwrap().len(), before);
}

/// A real picture: `w`×`h` of noise (incompressible, so the file is large), as PNG.
fn noise_png(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x9E37_79B9_u32;
    let pixels = image::RgbaImage::from_fn(w, h, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgba(seed.to_le_bytes())
    });
    let mut png = Vec::new();
    pixels.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    png
}

/// The `data:` URL's picture: its size and its PNG bytes.
fn avatar_image(avatar: &str) -> ((u32, u32), Vec<u8>) {
    let png = base64::engine::general_purpose::STANDARD
        .decode(avatar.strip_prefix("data:image/png;base64,").expect("a PNG data URL"))
        .unwrap();
    let image = image::load_from_memory(&png).unwrap();
    ((image.width(), image.height()), png)
}

#[tokio::test]
async fn avatars_are_kept_small_whatever_the_picture() {
    // A card whose picture is 1200×1800 (several MB): the avatar is that picture at 256 px,
    // without the card's text chunk.
    let picture = noise_png(1200, 1800);
    assert!(picture.len() > 4 << 20);
    let text = base64::engine::general_purpose::STANDARD.encode(v2_card("Tall", "d").to_string());
    let iend = picture.len() - 12;
    let mut card = picture[..iend].to_vec();
    let mut chunk_data = b"chara\0".to_vec();
    chunk_data.extend(text.as_bytes());
    card.extend((chunk_data.len() as u32).to_be_bytes());
    card.extend(b"tEXt");
    card.extend(&chunk_data);
    card.extend([0; 4]);
    card.extend(&picture[iend..]);
    let draft = parse_character_card(&card).unwrap();
    assert_eq!(draft.name, "Tall");
    let ((w, h), png) = avatar_image(&draft.avatar);
    assert_eq!((w, h), (171, 256));
    assert!(draft.avatar.len() < 300 * 1024, "{} bytes", draft.avatar.len());
    assert!(!png.windows(5).any(|w| w == b"chara"), "the card's text is not kept in the avatar");
    let (_dir, store) = store().await;
    store.create_persona(&draft).await.unwrap();

    // A picture the user picks (a data URL of several MB) is stored small too.
    let picked =
        format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(noise_png(900, 600)));
    assert!(picked.len() > 1 << 20);
    let id = store
        .create_persona(&PersonaDraft { name: "Wide".into(), avatar: picked, ..PersonaDraft::default() })
        .await
        .unwrap();
    let ((w, h), _) = avatar_image(&store.persona(id).await.unwrap().draft.avatar);
    assert_eq!((w, h), (256, 171));

    // A card whose picture claims absurd dimensions still imports, without an avatar.
    let mut bomb = png_with_text("chara", text.as_bytes());
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let draft = parse_character_card(&bomb).unwrap();
    assert_eq!(draft.name, "Tall");
    assert!(draft.avatar.is_empty());
}

#[tokio::test]
async fn a_thought_is_kept_apart_through_reopening_continuing_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chats.db");
    let store = Store::open(&path).await.unwrap();
    let c = store.create_conversation("Sea").await.unwrap();
    let q = store.add_message(c, None, Role::User, "Is the sea blue?", MessageStatus::Complete).await.unwrap();
    let mut stream = store.stream_message(c, Some(q)).await.unwrap();
    // Hostile text in a thought: it must not break out of the export's folded block.
    stream.push_reasoning("It reflects the sky </details><b>").await.unwrap();
    stream.push_reasoning(", mostly.").await.unwrap();
    stream.set_reasoning_ms(3_200);
    stream.push("Mostly, yes.").await.unwrap();
    let a = stream.finish(MessageStatus::Complete).await.unwrap();
    let plain = store.add_message(c, Some(q), Role::Assistant, "Yes.", MessageStatus::Complete).await.unwrap();
    store.show_branch_through(a).await.unwrap();
    drop(store);

    let store = Store::open(&path).await.unwrap();
    let m = store.message(a).await.unwrap();
    assert_eq!(m.content, "Mostly, yes.", "the answer holds no thought");
    assert_eq!(m.reasoning.as_deref(), Some("It reflects the sky </details><b>, mostly."));
    assert_eq!(m.reasoning_ms, Some(3_200));
    let p = store.message(plain).await.unwrap();
    assert_eq!((p.reasoning, p.reasoning_ms), (None, None));

    // Continuing the answer keeps its thought.
    let mut more = store.continue_message(a).await.unwrap();
    assert_eq!(more.reasoning(), "It reflects the sky </details><b>, mostly.");
    more.push(" Not always.").await.unwrap();
    more.finish(MessageStatus::Complete).await.unwrap();
    assert_eq!(store.message(a).await.unwrap().reasoning_ms, Some(3_200));

    let md = store.export_markdown(c).await.unwrap();
    assert_eq!(
        md,
        "# Sea\n\n## User\n\nIs the sea blue?\n\n## Assistant\n\n<details><summary>Thought for 3 s</summary>\n\n\
         It reflects the sky &lt;/details>&lt;b>, mostly.\n\n</details>\n\nMostly, yes. Not always.\n"
    );

    let export = store.export(&[c]).await.unwrap();
    let json = serde_json::to_string(&export).unwrap();
    assert_eq!(json.matches("\"reasoning\"").count(), 1, "only the answer that thought carries one: {json}");
    let imported = store.import(json.as_bytes()).await.unwrap();
    let view = store.branch_view(imported[0]).await.unwrap();
    let answer = &view.last().unwrap().message;
    assert_eq!(answer.reasoning.as_deref(), Some("It reflects the sky </details><b>, mostly."));
    assert_eq!(answer.reasoning_ms, Some(3_200));
}

#[tokio::test]
async fn a_models_template_is_kept_replaced_and_reset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chats.db");
    let store = Store::open(&path).await.unwrap();
    let model = "Qwen3-0.6B-Q4_K_M.gguf";
    assert_eq!(store.model_template(model).await.unwrap(), None);
    store.set_model_template(model, "{{ messages[0].content }}").await.unwrap();
    store.set_model_template(model, "{{ bos_token }}{{ messages[0].content }}").await.unwrap();
    // Refused: empty, or absurdly large. What was kept stays.
    assert!(store.set_model_template(model, "  \n").await.is_err());
    let huge = "x".repeat(sirocco_store::MAX_TEMPLATE_BYTES + 1);
    assert!(store.set_model_template(model, &huge).await.unwrap_err().to_string().contains("KiB"));
    drop(store);
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.model_template(model).await.unwrap().as_deref(), Some("{{ bos_token }}{{ messages[0].content }}"));
    assert_eq!(store.model_template("other.gguf").await.unwrap(), None);
    // Every load of the model (the app's, the server's) takes it, wherever the file is.
    let params = store.model_load_params(&format!("/elsewhere/{model}"), Default::default()).await.unwrap();
    assert_eq!(params.chat_template_override.as_deref(), Some("{{ bos_token }}{{ messages[0].content }}"));
    assert!(store.reset_model_template(model).await.unwrap());
    assert!(!store.reset_model_template(model).await.unwrap());
    assert_eq!(store.model_template(model).await.unwrap(), None);
    let params = store.model_load_params(&format!("/elsewhere/{model}"), Default::default()).await.unwrap();
    assert_eq!(params.chat_template_override, None);
}
