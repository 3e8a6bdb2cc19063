"""Where catalog properties live in each outside format (libvirt now)."""
