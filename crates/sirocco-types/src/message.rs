//! A conversation's messages, as every part sees them: the store keeps them, the engine's chat
//! template renders them, its tool formats read and write their calls, the overflow policy
//! drops them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    /// A tool's result, answering one of the assistant's calls.
    Tool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
    /// An assistant message's calls to tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// A tool message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// An assistant message's thought (a reasoning model's), apart from its content. Formats
    /// that keep earlier thoughts write it back (Mistral v13 and later); others leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// A user message's images, seen before its text (as Mistral's formats place an image
    /// sent ahead of its question). Only a model loaded with a vision projector takes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(skip)]
    pub images: Vec<ImageInput>,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            reasoning_content: None,
            images: Vec::new(),
        }
    }
}

/// An image as its file's bytes (PNG, JPEG, WebP, GIF, BMP), decoded by the engine within
/// limits (the engine's `vision::decode`). Cheap to clone; crosses process pipes as base64.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageInput {
    bytes: std::sync::Arc<[u8]>,
}

impl ImageInput {
    pub fn new(bytes: impl Into<std::sync::Arc<[u8]>>) -> Self {
        Self { bytes: bytes.into() }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Names the image's content: equal bytes, equal id (the cache reuses what an image left in
    /// it by this id).
    pub fn id(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&self.bytes)
    }
}

impl std::fmt::Debug for ImageInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ImageInput({} bytes, {:016x})", self.bytes.len(), self.id())
    }
}

impl Serialize for ImageInput {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use base64::Engine as _;
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.bytes))
    }
}

impl<'de> Deserialize<'de> for ImageInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        use base64::Engine as _;
        let text = String::deserialize(deserializer)?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(text).map_err(serde::de::Error::custom)?;
        Ok(Self::new(bytes))
    }
}

/// A call the model made (or, in a conversation's history, made earlier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as JSON text.
    pub arguments: String,
}
