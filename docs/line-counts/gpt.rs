#[binrw]
#[brw(little, magic = b"EFI PART")]
struct GptHeader {
    revision: u32,
    header_size: u32,
    header_crc: u32, // no CRC support in binrw: a custom map/assert function is needed
    #[br(assert(reserved == 0))]
    reserved: u32,
    current_lba: u64,
    backup_lba: u64,
    first_usable_lba: u64,
    last_usable_lba: u64,
    disk_guid: [u8; 16],
    entry_array_lba: u64,
    entry_count: u32,
    #[br(assert((128..=4096).contains(&entry_size)))]
    entry_size: u32,
    entry_array_crc: u32,
}

#[binrw]
#[brw(little)]
struct GptEntry {
    type_guid: [u8; 16],
    unique: [u8; 16],
    first_lba: u64,
    last_lba: u64,
    attributes: u64,
    name: [u16; 36],
}

#[binrw]
#[brw(little)]
struct GptEntryArray {
    #[br(count = 128)]
    entries: Vec<GptEntry>,
}
