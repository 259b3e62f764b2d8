"""douga studio: the web UI (Gradio). ``douga ui`` starts it."""
