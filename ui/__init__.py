"""The Gradio studio: one module per tab plus shared UI helpers (UI only; every action is one call into pipeline/)."""
