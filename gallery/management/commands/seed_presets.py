from django.core.management.base import BaseCommand

from gallery import services


class Command(BaseCommand):
    help = "Mirror the engine's preset styles into the Preset table."

    def handle(self, *args, **options):
        # Imported here: gallery.jobs loads stylecore (and torch), which no other command needs.
        from gallery.jobs import read_engine_presets

        presets = services.seed_presets(read_engine_presets())
        self.stdout.write(f"Seeded {len(presets)} preset(s): {', '.join(p.name for p in presets) or 'none'}")
