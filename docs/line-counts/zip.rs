#[binrw]
#[brw(little, magic = 0x04034B50u32)]
struct ZipLocalFile {
    version_needed: u16,
    flags: u16,
    method: u16,
    modified_time: u16,
    modified_date: u16,
    crc32: u32,
    compressed_size: u32,
    uncompressed_size: u32,
    #[bw(calc = name.len() as u16)]
    name_length: u16,
    #[bw(calc = extra.len() as u16)]
    extra_length: u16,
    #[br(count = name_length, try_map = String::from_utf8)]
    #[bw(map = |s: &String| s.as_bytes().to_vec())]
    name: String,
    #[br(count = extra_length)]
    extra: Vec<u8>,
    #[br(count = compressed_size)]
    data: Vec<u8>,
}

#[binrw]
#[brw(little, magic = 0x02014B50u32)]
struct ZipCentralEntry {
    version_made_by: u16,
    version_needed: u16,
    flags: u16,
    method: u16,
    modified_time: u16,
    modified_date: u16,
    crc32: u32,
    compressed_size: u32,
    uncompressed_size: u32,
    #[bw(calc = name.len() as u16)]
    name_length: u16,
    #[bw(calc = extra.len() as u16)]
    extra_length: u16,
    #[bw(calc = comment.len() as u16)]
    comment_length: u16,
    disk_start: u16,
    internal_attributes: u16,
    external_attributes: u32,
    local_header_offset: u32,
    #[br(count = name_length, try_map = String::from_utf8)]
    #[bw(map = |s: &String| s.as_bytes().to_vec())]
    name: String,
    #[br(count = extra_length)]
    extra: Vec<u8>,
    #[br(count = comment_length, try_map = String::from_utf8)]
    #[bw(map = |s: &String| s.as_bytes().to_vec())]
    comment: String,
}

#[binrw]
#[brw(little, magic = 0x06054B50u32)]
struct ZipEndOfCentralDirectory {
    disk_number: u16,
    central_directory_disk: u16,
    entries_on_disk: u16,
    entry_count: u16,
    central_directory_size: u32,
    central_directory_offset: u32,
    #[bw(calc = comment.len() as u16)]
    comment_length: u16,
    #[br(count = comment_length, try_map = String::from_utf8)]
    #[bw(map = |s: &String| s.as_bytes().to_vec())]
    comment: String,
}
