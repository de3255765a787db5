"""Applications on top of the pipelines: feature extraction from video files, the demo, the HTML
report, figures and the Hugging Face Hub."""
