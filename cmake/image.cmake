# Cross build: poolvisor.elf and the guest partition images (filled in below).
