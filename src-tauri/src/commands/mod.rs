pub mod chat;
pub mod hub;
pub mod library;
pub mod models;
