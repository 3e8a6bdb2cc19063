"""What hvtune reads about the host it runs on, without changing anything."""
