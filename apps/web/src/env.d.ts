// Vite's client types (import.meta.env, ?url imports) for the page's sources.
/// <reference types="vite/client" />
