pub mod chat;
pub mod conversations;
pub mod hub;
pub mod library;
pub mod models;
pub mod personas;
pub mod presets;
pub mod server;
