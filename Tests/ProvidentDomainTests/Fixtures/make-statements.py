#!/usr/bin/env python3
"""Writes the statement fixtures beside this script, shaped like the exports of real banks:
an .xlsx made by openpyxl (a merged title cell, an account line, a blank row, real date cells,
float amounts, a fee on the debit side, a 合计 row) and CSV exports with title blocks, in GBK
and UTF-8 with a BOM. Run once; the files are checked in (openpyxl is not needed to test)."""
import datetime
import pathlib

import openpyxl

HERE = pathlib.Path(__file__).resolve().parent

wb = openpyxl.Workbook()
ws = wb.active
ws.title = "交易明细"
ws.append(["中国建设银行账户交易明细"])
ws.merge_cells("A1:I1")
ws.append(["账号：6217000010001234567", None, "户名：某市住房公积金管理中心", None, None, "币种：人民币"])
ws.append([])
ws.append(["交易时间", "借方发生额", "贷方发生额", "余额", "对方户名", "对方账号", "摘要", "备注", "交易流水号"])
ws.append([datetime.datetime(2026, 11, 3, 9, 15, 2), None, 600.0, 10600.0, "张三", "6222020000000001", "转账", "PVABCDEFGHJKLMN", "CCB20261103001"])
ws.append([datetime.datetime(2026, 11, 3, 10, 0, 0), 2.5, None, 10597.5, "", "", "手续费", "", "CCB20261103002"])
ws.append([datetime.datetime(2026, 11, 4, 16, 30, 0), None, 1234.56, 11832.06, "李四", "6222020000000002", "公积金缴存", "", "CCB20261104001"])
ws.append(["合计", 2.5, 1834.56])
for row in ws.iter_rows(min_row=5, max_row=7, max_col=1):
    row[0].number_format = "yyyy-mm-dd hh:mm:ss"
wb.save(HERE / "ccb-statement.xlsx")

ccb = (
    "中国建设银行账户交易明细\r\n"
    "账号：6217000010001234567,,户名：某市住房公积金管理中心\r\n"
    ",,,,,,,\r\n"
    "交易时间,借方发生额,贷方发生额,余额,对方户名,对方账号,摘要,备注\r\n"
    "2026-11-03 09:15:02,,600.00,10600.00,张三,6222020000000001,转账,PVABCDEFGHJKLMN\r\n"
    "2026-11-03 10:00:00,2.50,,10597.50,,,手续费,\r\n"
    "2026-11-04 16:30:00,,\"1,234.56\",\"11,832.06\",李四,6222020000000002,公积金缴存,\r\n"
    ",,,,,,,\r\n"
    "合计,2.50,\"1,834.56\",,,,,\r\n"
)
(HERE / "ccb-statement-gbk.csv").write_bytes(ccb.encode("gbk"))

icbc = (
    "中国工商银行 对公账户明细\n"
    "查询日期：2026-11-05\n"
    "\n"
    "交易日期,交易时间,收入金额,支出金额,对方户名,对方账号,用途,附言,流水号\n"
    "20261103,09:15:02,600.00,,张三,6222020000000001,住房公积金,PVABCDEFGHJKLMN,ICBC0001\n"
    "20261103,11:00:00,,35.00,某银行,,账户管理费,,ICBC0002\n"
    "20261104,16:30:00,1234.56,,李四,6222020000000002,住房公积金,,ICBC0003\n"
    "本页合计,,1834.56,35.00,,,,,\n"
    "总计,,1834.56,35.00,,,,,\n"
)
(HERE / "icbc-statement.csv").write_bytes("\ufeff".encode("utf-8") + icbc.encode("utf-8"))
