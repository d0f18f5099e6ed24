/* egress_obj.S - the compiled egress stamping program (daemon/bpf/egress_stamp.c), as bytes
 * for libbpf to load (egress.c), and their count: EGRESS_BPF_OBJ is its path, given by the
 * Makefile. */
    .section .rodata
    .balign 8
    .global egress_bpf_obj_size
egress_bpf_obj_size:
    .quad 2f - 1f
    .global egress_bpf_obj
egress_bpf_obj:
1:
    .incbin EGRESS_BPF_OBJ
2:
    .section .note.GNU-stack,"",@progbits
