"""Reading inputs: files of every kind -> JSONL lines -> normalized rows (see dataset.load_input)."""
