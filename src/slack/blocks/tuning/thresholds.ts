import type { ScoringModel } from "../../../core/model.js";
import {
  TUNING_HYSTERESIS_ACTION,
  TUNING_HYSTERESIS_BLOCK,
  TUNING_MQL_ACTION,
  TUNING_MQL_BLOCK,
  TUNING_SQL_ACTION,
  TUNING_SQL_BLOCK,
  TUNING_THRESHOLDS_MODAL,
} from "../../ids.js";
import { divider, num } from "../common.js";
import { buildPreviewBlocks, type PreviewState } from "./preview.js";
import { intro, type ModalView, type ModelRef, modal, noteInput, numberInput } from "./shared.js";

/** The thresholds modal: MQL, SQL and hysteresis, with the impact preview. */

export interface ThresholdsModalInput {
  model: ModelRef;
  current: ScoringModel["thresholds"];
  /** Field texts as the person left them (after an edit); missing ones show the current value. */
  values?: Partial<Record<"mql" | "sql" | "hysteresis", string>> | undefined;
  note?: string | undefined;
  preview: PreviewState;
  /** private_metadata (see encodeTuningMetadata). */
  metadata: string;
}

export function buildThresholdsModal(p: ThresholdsModalInput): ModalView {
  const v = p.values ?? {};
  const value = (k: "mql" | "sql" | "hysteresis") => v[k] ?? String(p.current[k]);
  return modal({
    callbackId: TUNING_THRESHOLDS_MODAL,
    title: "Tune thresholds",
    metadata: p.metadata,
    blocks: [
      intro(p.model, "Stage thresholds"),
      numberInput({
        blockId: TUNING_MQL_BLOCK,
        actionId: TUNING_MQL_ACTION,
        label: "MQL threshold",
        hint: `Score at which a lead becomes marketing-qualified. Now ${num(p.current.mql)}.`,
        value: value("mql"),
      }),
      numberInput({
        blockId: TUNING_SQL_BLOCK,
        actionId: TUNING_SQL_ACTION,
        label: "SQL threshold",
        hint: `Score at which a lead becomes sales-qualified; above the MQL threshold. Now ${num(p.current.sql)}.`,
        value: value("sql"),
      }),
      numberInput({
        blockId: TUNING_HYSTERESIS_BLOCK,
        actionId: TUNING_HYSTERESIS_ACTION,
        label: "Hysteresis",
        hint: `How far below a threshold a lead must fall before it drops back a stage; 0 or more. Now ${num(p.current.hysteresis)}.`,
        value: value("hysteresis"),
        min: 0,
      }),
      noteInput(p.note),
      divider,
      ...buildPreviewBlocks(p.preview),
    ],
  });
}
