#[binrw]
#[brw(little, magic = b"\x7fELF\x02\x01")]
struct Elf64Header {
    ident_version: u8,
    os_abi: u8,
    #[brw(pad_before = 8)]
    kind: u16,
    machine: u16,
    version: u32,
    entry: u64,
    program_header_offset: u64,
    section_header_offset: u64,
    flags: u32,
    header_size: u16,
    program_header_size: u16,
    program_header_count: u16,
    section_header_size: u16,
    section_header_count: u16,
    section_name_table_index: u16,
}

#[binrw]
#[brw(little)]
struct Elf64ProgramHeader {
    kind: u32,
    flags: u32,
    offset: u64,
    virtual_address: u64,
    physical_address: u64,
    file_size: u64,
    memory_size: u64,
    alignment: u64,
}

#[binrw]
#[brw(little)]
struct Elf64SectionHeader {
    name: u32,
    kind: u32,
    flags: u64,
    address: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    alignment: u64,
    entry_size: u64,
}

#[binrw]
struct ElfName {
    text: NullString,
}
