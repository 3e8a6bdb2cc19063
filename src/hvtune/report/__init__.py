"""Reports: turn results into text, JSON or Markdown. They print; they
never decide."""
