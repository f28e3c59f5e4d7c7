"""Run every benchmark and print its table."""

from benchmarks import (avatar, cold_start, lip_features, matting_methods, preprocess, registry_listing,
                        upload_chunk_memory, upload_throughput, voice, voice_augmentation)


def main() -> None:
    cold_start.main()
    registry_listing.main()
    upload_throughput.main()
    upload_chunk_memory.main()
    preprocess.main()
    matting_methods.main()
    voice.main()
    voice_augmentation.main()
    avatar.main()
    lip_features.main()


if __name__ == "__main__":
    main()
