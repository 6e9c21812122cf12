//! Images named by a web address, fetched when the user allowed it (`ServerConfig::fetch_images`)
//! and put in the request in place of the address, as the image itself: an `image_url` part
//! (chat completions), an `input_image` (Responses), an image block's `url` source (Anthropic
//! Messages). Every fetch goes through `sirocco_fetch::Fetcher` (public addresses only, at every
//! hop; bounded in time, size, concurrency and bytes held), after the request is admitted. At
//! most [`MAX_IMAGES`] a request, each at most [`MAX_IMAGE_BYTES`], an image media type. Without
//! the user's leave the address stays and the endpoint refuses it.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use sirocco_fetch::{BudgetHold, FetchError, Fetcher, Limits};

use crate::ApiError;

/// Web images fetched for one request at most.
pub const MAX_IMAGES: usize = 8;
/// The largest image fetched (OpenAI's limit for an image).
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;
/// How long one image may take to arrive.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(20);

/// Images fetched at once, across every request (more wait their turn).
const CONCURRENT_FETCHES: usize = 4;
/// Bytes of fetched images held at once, across every request: one request's worth. A fetch
/// beyond it is refused as busy (503) instead of holding more.
const FETCHED_BYTES_HELD: usize = MAX_IMAGES * MAX_IMAGE_BYTES;

/// The server's image fetcher.
pub fn fetcher() -> Fetcher {
    let limits =
        Limits { max_bytes: MAX_IMAGE_BYTES, timeout: FETCH_TIMEOUT, max_redirects: 3, type_prefix: Some("image/") };
    Fetcher::new(limits, CONCURRENT_FETCHES, FETCHED_BYTES_HELD)
}

/// Whether `body` names any web image (then the request is admitted before they are fetched).
pub fn names_any(body: &Value) -> bool {
    let mut found = Vec::new();
    collect(body, &mut found);
    !found.is_empty()
}

/// Fetches every web image `body` names and puts it in the address's place (a data URL, or
/// an Anthropic base64 source). What it returns holds the images' share of the fetch budget.
pub async fn inline(body: &mut Value, fetcher: &Fetcher) -> Result<Vec<BudgetHold>, ApiError> {
    let mut found = Vec::new();
    collect(body, &mut found);
    if found.len() > MAX_IMAGES {
        return Err(ApiError::invalid(
            format!(
                "At most {MAX_IMAGES} images are fetched from the web for one request; this one names {}.",
                found.len()
            ),
            None,
        ));
    }
    let mut held = Vec::new();
    for slot in found {
        match slot {
            Slot::Url(at) => {
                let Some(Value::String(url)) = body.pointer(&at).cloned() else { continue };
                let (mime, data, hold) = fetch(fetcher, &url).await?;
                held.push(hold);
                *body.pointer_mut(&at).expect("found above") = Value::String(format!("data:{mime};base64,{data}"));
            }
            Slot::Source(at) => {
                let Some(url) = body.pointer(&format!("{at}/url")).and_then(Value::as_str).map(str::to_owned) else {
                    continue;
                };
                let (mime, data, hold) = fetch(fetcher, &url).await?;
                held.push(hold);
                *body.pointer_mut(&at).expect("found above") =
                    json!({"type": "base64", "media_type": mime, "data": data});
            }
        }
    }
    Ok(held)
}

/// Where a web address sits: a string to replace (JSON pointer), or an Anthropic source object.
enum Slot {
    Url(String),
    Source(String),
}

fn is_web(url: &str) -> bool {
    let url = url.trim_start();
    url.starts_with("http://") || url.starts_with("https://")
}

fn collect(value: &Value, found: &mut Vec<Slot>) {
    fn walk(value: &Value, at: &mut String, found: &mut Vec<Slot>) {
        match value {
            Value::Object(map) => {
                let kind = map.get("type").and_then(Value::as_str).unwrap_or("");
                match (kind, map.get("image_url"), map.get("source")) {
                    ("image_url", Some(Value::String(u)), _) | ("input_image", Some(Value::String(u)), _)
                        if is_web(u) =>
                    {
                        found.push(Slot::Url(format!("{at}/image_url")))
                    }
                    ("image_url", Some(Value::Object(o)), _)
                        if o.get("url").and_then(Value::as_str).is_some_and(is_web) =>
                    {
                        found.push(Slot::Url(format!("{at}/image_url/url")))
                    }
                    ("image", _, Some(Value::Object(s)))
                        if s.get("type").and_then(Value::as_str) == Some("url")
                            && s.get("url").and_then(Value::as_str).is_some_and(is_web) =>
                    {
                        found.push(Slot::Source(format!("{at}/source")))
                    }
                    _ => {}
                }
                for (key, v) in map {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    walk(v, at, found);
                    at.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    walk(v, at, found);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
    walk(value, &mut String::new(), found);
}

/// The image at `url`: its media type, its bytes in base64, and its hold on the budget. The
/// error names the address the client gave and what it may know — never the remote's answer.
async fn fetch(fetcher: &Fetcher, url: &str) -> Result<(String, String, BudgetHold), ApiError> {
    let shown: String = url.chars().take(120).collect();
    match fetcher.fetch(url).await {
        Ok(fetched) => {
            let data = base64::engine::general_purpose::STANDARD.encode(&fetched.bytes);
            Ok((fetched.media_type.clone(), data, fetched.into_hold()))
        }
        Err(FetchError::Busy) => Err(ApiError::busy()),
        Err(FetchError::NotFetched) => {
            Err(ApiError::invalid(format!("The image at {shown} could not be fetched."), None))
        }
        Err(FetchError::WrongType { .. }) => {
            Err(ApiError::invalid(format!("The image at {shown} could not be fetched: it is not an image."), None))
        }
        Err(e) => Err(ApiError::invalid(format!("The image at {shown} could not be fetched: {e}."), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_images_are_found_in_each_api_shape() {
        let body = json!({
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "see https://example.com/not-an-image"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                {"type": "image_url", "image_url": "http://example.com/b.png"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/c.png"}},
                {"type": "image", "source": {"type": "base64", "data": "AAAA"}},
            ]}],
            "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "https://example.com/d.png"}]}],
        });
        let mut found = Vec::new();
        collect(&body, &mut found);
        let places: Vec<String> = found
            .into_iter()
            .map(|s| match s {
                Slot::Url(at) => format!("url {at}"),
                Slot::Source(at) => format!("source {at}"),
            })
            .collect();
        assert_eq!(
            places,
            [
                "url /messages/0/content/1/image_url/url",
                "url /messages/0/content/2/image_url",
                "source /messages/0/content/4/source",
                "url /input/0/content/0/image_url",
            ]
        );
    }
}
