# ELF partition images (issue 9, loading; docs/config.md "Images").
# boot.elf_image: the PSP and two test partitions (dedicated and shared) boot
# from their .elf files, each test partition with an initrd; a raw image's
# initrd goes to the top of its memory.
# boot.bad_elf: truncated, wrong-machine and too-big images, a too-big and a
# missing initrd are each reported and nothing starts.
# boot.linux_sized: a 45 MiB ELF kernel and a 15 MiB initrd in one bundle
# (Debian's vmlinux is 45 MB).
set(PV_TEST_ELFS ${CMAKE_BINARY_DIR}/test-elfs)
add_custom_command(OUTPUT ${PV_TEST_ELFS}/truncated.elf ${PV_TEST_ELFS}/x86.elf ${PV_TEST_ELFS}/big.elf
        ${PV_TEST_ELFS}/big-initrd
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/make_test_elfs.sh ${PV_IMAGE_DIR}/smp-guest.elf ${PV_TEST_ELFS}
    DEPENDS images ${CMAKE_CURRENT_SOURCE_DIR}/make_test_elfs.sh
    COMMENT "test ELF images")
# One target owns the rule: every bundle below depends on it, not on the
# files, or a parallel build runs the script once per bundle, over the same
# files at the same time (CI once loaded a big.elf patched half-way).
add_custom_target(test-elfs DEPENDS ${PV_TEST_ELFS}/truncated.elf ${PV_TEST_ELFS}/x86.elf ${PV_TEST_ELFS}/big.elf
    ${PV_TEST_ELFS}/big-initrd)

pv_bundle(elf_image ${CMAKE_CURRENT_SOURCE_DIR}/configs/elf_image.cfg)

# pv_elf_bundle(NAME CONFIG name=path...): a bundle of the config and the given entries only.
function(pv_elf_bundle name config)
    set(out ${CMAKE_BINARY_DIR}/${name}.bundle)
    add_custom_command(OUTPUT ${out}
        COMMAND mkbundle ${out} poolvisor.cfg=${config} ${ARGN}
        DEPENDS mkbundle images ${config} test-elfs
        COMMENT "bundle ${name}")
    add_custom_target(bundle-${name} ALL DEPENDS ${out})
    add_dependencies(bundle-${name} test-elfs)
endfunction()
pv_elf_bundle(bad_elf ${CMAKE_CURRENT_SOURCE_DIR}/configs/bad_elf.cfg smp-guest-elf=${PV_IMAGE_DIR}/smp-guest.elf
    truncated-elf=${PV_TEST_ELFS}/truncated.elf x86-elf=${PV_TEST_ELFS}/x86.elf big-initrd=${PV_TEST_ELFS}/big-initrd
    big-elf=${PV_TEST_ELFS}/big.elf)
pv_elf_bundle(linux_sized ${CMAKE_CURRENT_SOURCE_DIR}/configs/linux_sized.cfg big-elf=${PV_TEST_ELFS}/big.elf
    big-initrd=${PV_TEST_ELFS}/big-initrd)

add_test(NAME boot.elf_image COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/elf_image.bundle --timeout 240
    --disk ${CMAKE_BINARY_DIR}/boot.elf_image.img
    --expect "^poolvisor: partition psp: ELF image psp-elf: 1 segment in logical 0x0-0x[0-9a-f]+, entry 0x0$"
    --expect "^poolvisor: partition alpha: ELF image smp-guest-elf: 1 segment in logical 0x0-0x[0-9a-f]+, entry 0x0$"
    --expect "^poolvisor: partition alpha: initrd bench-guest \\([0-9]+ KiB\\) at logical 0x[0-9a-f]+0000-0x[0-9a-f]+$"
    --expect "^poolvisor: partition s1: ELF image smp-guest-elf: 1 segment"
    --expect "^poolvisor: partition s1: initrd mce-guest \\([0-9]+ KiB\\) at logical 0x[0-9a-f]+0000-0x[0-9a-f]+$"
    --expect "^poolvisor: partition raw: initrd bench-guest \\([0-9]+ KiB\\) at logical 0xd[0-9a-f]0000-0xd[0-9a-f]+$"
    --expect "^\\[raw\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs, 1 rounds, 0 mismatches"
    --expect "^poolvisor: paging: service partition psp ready"
    --expect "^\\[alpha\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 2 rounds, 0 mismatches"
    --expect "^\\[s1\\] smp-guest: PASS verified [0-9]+ MiB on 1 vCPUs, 1 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"alpha\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "${STAT},\"name\":\"s1\",.*\"mem_mode\":\"shared\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\",\"page_ins\":[1-9][0-9]*"
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed|cannot be loaded")

add_test(NAME boot.bad_elf COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/bad_elf.bundle --timeout 60
    --expect "^poolvisor: config:9: image: partition cut: ELF image 'truncated-elf' \\([0-9]+ KiB\\) cannot be loaded: segment data extends beyond the file \\(truncated\\?\\) \\(program header 0\\)$"
    --expect "^poolvisor: config:15: image: partition x86: ELF image 'x86-elf' \\([0-9]+ KiB\\) cannot be loaded: wrong machine \\(e_machine is not EM_PPC64\\)$"
    --expect "^poolvisor: config:21: desired_mem: partition small: initrd 'big-initrd' \\(15360 KiB\\) does not fit"
    --expect "^poolvisor: config:28: image: partition tiny: ELF image 'big-elf' \\(46080 KiB\\) cannot be loaded: segment does not fit in desired_mem below the hypervisor's RTAS and device-tree area \\(program header 0, logical 0x0-0x2cf0000, desired_mem 32 MiB\\)$"
    --expect "^poolvisor: config:34: initrd: partition nord names initrd 'no-such-rd', which is not in the bundle$"
    --expect "^poolvisor: the configuration has errors; no partition started$"
    --reject "^\\[alpha\\]|PV-STAT|partition alpha: ELF image")

add_test(NAME boot.linux_sized COMMAND ${RUN} --bundle ${CMAKE_BINARY_DIR}/linux_sized.bundle --timeout 180
    --expect "^poolvisor: partition bundle at 0x[0-9a-f]+, 6[0-9][0-9][0-9][0-9] KiB$"
    --expect "^poolvisor: partition big: ELF image big-elf: 1 segment in logical 0x0-0x2cf0000, entry 0x0$"
    --expect "^poolvisor: partition big: initrd big-initrd \\(15360 KiB\\) at logical 0x2cf0000-0x3bf0000$"
    --expect "^\\[big\\] smp-guest: PASS verified [0-9]+ MiB on 2 vCPUs, 1 rounds, 0 mismatches"
    --expect "${STAT},\"name\":\"big\",.*\"state\":\"stopped\",\"reason\":\"power-off requested\""
    --expect "poolvisor: all partitions have ended; powering off"
    --reject "MISMATCH|FAIL|HYPERVISOR FAULT|killed")

set_tests_properties(boot.elf_image boot.bad_elf boot.linux_sized PROPERTIES LABELS boot)
