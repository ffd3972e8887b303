"""The Gradio app's handlers and views (``app.py`` at the repository root holds the layout)."""
