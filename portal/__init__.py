"""The unit portal: units upload their files and read what came back; the data office sees every unit."""
